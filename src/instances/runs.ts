import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { Executor, Transaction } from "../../db/client";
import { instanceRuns, instances, type runEndReason } from "../../db/schema";
import { withTransaction } from "../context";
import { NotFoundError } from "../errors";
import { newId } from "../ids";
import type { JobQueue } from "../jobs/queue";
import { notify } from "../notifications/notify";
import type { PodAddress, PodRef } from "../providers/seam";
import { failureAlert } from "../spend/alerts";
import { displayName } from "./queries";
import type { InstanceState } from "./state-machine";
import { type Instance, type TransitionRequest, transition } from "./transition";

/**
 * The only writer of `instance_runs` (the billing tick and settlement, in `src/metering/`, write only the billed
 * columns). A run is one pod's life: begun with the instance's `pending`, claimed by a provisioner, given its
 * pod, marked running, kept alive by heartbeats, and ended once. Every time here is the database clock.
 * Lock order, everywhere: the instance row first, then the run.
 */

export type RunEndReason = (typeof runEndReason.enumValues)[number];
export type Run = typeof instanceRuns.$inferSelect;

/** A new run for the instance, numbered after its last one; the caller points the instance at it. */
export async function beginRun(tx: Executor, instanceId: string, runId = newId("run")): Promise<string> {
  const [last] = await tx
    .select({ number: sql<number>`coalesce(max(${instanceRuns.number}), 0)` })
    .from(instanceRuns)
    .where(eq(instanceRuns.instanceId, instanceId));
  await tx.insert(instanceRuns).values({ id: runId, instanceId, number: Number(last?.number ?? 0) + 1 });
  return runId;
}

/** A provisioner's hold on a run: its claim time (ms precision, so it survives the round trip) is its token. */
export interface RunClaim {
  runId: string;
  token: Date;
}

/** What a provisioner holding a claim may write before the pod is attached. */
export type ClaimedWrite = Partial<Pick<typeof instanceRuns.$inferInsert, "provisioningPodId" | "agentTokenHash" | "claimedAt">>;

/** Claims a live run that has no pod yet, unless a claim younger than the lease holds it; returns the pod a previous holder may have left. */
export async function claimRun(db: Executor, runId: string, leaseSeconds: number): Promise<{ claim: RunClaim; leftoverPodId: string | null } | null> {
  const [claimed] = await db
    .update(instanceRuns)
    .set({ claimedAt: sql`date_trunc('milliseconds', now())` })
    .where(
      and(
        eq(instanceRuns.id, runId),
        isNull(instanceRuns.podId),
        isNull(instanceRuns.endedAt),
        or(isNull(instanceRuns.claimedAt), lt(instanceRuns.claimedAt, sql`now() - make_interval(secs => ${leaseSeconds})`)),
      ),
    )
    .returning({ claimedAt: instanceRuns.claimedAt, leftoverPodId: instanceRuns.provisioningPodId });
  if (!claimed) return null;
  return { claim: { runId, token: claimed.claimedAt! }, leftoverPodId: claimed.leftoverPodId };
}

/** The run, while this claim holds it, it has no pod and it has not ended. */
function held(claim: RunClaim) {
  return and(eq(instanceRuns.id, claim.runId), eq(instanceRuns.claimedAt, claim.token), isNull(instanceRuns.podId), isNull(instanceRuns.endedAt));
}

/** Writes to the run only while the claim holds it; false when it no longer does. */
export async function writeClaimed(db: Executor, claim: RunClaim, values: ClaimedWrite): Promise<boolean> {
  const rows = await db.update(instanceRuns).set(values).where(held(claim)).returning({ id: instanceRuns.id });
  return rows.length > 0;
}

/** Renews the claim; returns the new token, or null when the claim was lost. */
export async function renewClaim(db: Executor, claim: RunClaim): Promise<Date | null> {
  const [row] = await db
    .update(instanceRuns)
    .set({ claimedAt: sql`date_trunc('milliseconds', now())` })
    .where(held(claim))
    .returning({ claimedAt: instanceRuns.claimedAt });
  return row?.claimedAt ?? null;
}

/** Inside a transaction (after the instance is locked): locks the run if the claim still holds it, until commit. */
export async function lockClaimed(tx: Transaction, claim: RunClaim): Promise<boolean> {
  const [row] = await tx.select({ id: instanceRuns.id }).from(instanceRuns).where(held(claim)).for("update");
  return Boolean(row);
}

export interface PodAttachment {
  providerId: string;
  podId: string;
  externalPodId: string;
  region: string;
  gpuType: string;
  rateCentsPerHour: number;
  runtimeUrl: string | null;
  ports: { name: string; port: number; url: string }[];
}

/** The pod becomes the run's; the caller holds the claim's lock (see `lockClaimed`). */
export async function attachPod(tx: Transaction, runId: string, pod: PodAttachment): Promise<void> {
  await tx
    .update(instanceRuns)
    .set({ ...pod, provisioningPodId: null })
    .where(eq(instanceRuns.id, runId));
}

/** How the run's provider knows its pod. */
export function podRefOf(run: Pick<Run, "podId" | "externalPodId">): PodRef | null {
  return run.podId ? { podId: run.podId, externalId: run.externalPodId ?? run.podId } : null;
}

/**
 * A pod's address, learned after it was attached (a cloud pod gets its IP after boot): the proxy routes to the
 * run from here on. Only a live run with no address yet is written; the proxy's cache hears of it (runtime_url).
 */
export async function recordAddress(db: Executor, runId: string, address: PodAddress): Promise<boolean> {
  const rows = await db
    .update(instanceRuns)
    .set({ runtimeUrl: address.runtimeUrl, ports: address.ports })
    .where(and(eq(instanceRuns.id, runId), isNull(instanceRuns.endedAt), isNull(instanceRuns.runtimeUrl)))
    .returning({ id: instanceRuns.id });
  return rows.length > 0;
}

/** The runtime passed its health check: billable time starts now (the database clock). The caller holds the instance lock. */
export async function markRunning(tx: Transaction, runId: string): Promise<void> {
  await tx
    .update(instanceRuns)
    .set({ runningAt: sql`now()`, lastHeartbeatAt: sql`now()` })
    .where(and(eq(instanceRuns.id, runId), isNull(instanceRuns.endedAt)));
}

/** What a batch of heartbeats came to, beyond the runs it moved. */
export interface HeartbeatWrite {
  /** Runs that are not live (ended, or gone): their pods are to be told so. */
  ended: string[];
  /** Live runs another transaction holds right now (a stop, a tick's batch): their beats wait for the next flush. */
  busy: string[];
}

/**
 * Heartbeats batched by the api: each run's last heartbeat becomes its receive time on the database clock
 * (`now()` at the write, less how long the beat waited in the batch). Only live runs move: a stopping pod
 * still beats until it is released, and must not push the heartbeat of its ended run past `ended_at`.
 * A run another transaction holds is skipped, never waited for: a bulk stop or the budget watcher locks many
 * runs in its own order, and a batch waiting on one of them while holding another deadlocked with it.
 */
export async function recordHeartbeats(db: Executor, beats: { run_id: string; age_ms: number }[]): Promise<HeartbeatWrite> {
  if (beats.length === 0) return { ended: [], busy: [] };
  const received = sql`now() - b.age_ms * interval '1 millisecond'`;
  // greatest(): a beat that arrives late never moves the heartbeat backwards (metering reads it). A stored
  // heartbeat in the future was written from a pod's clock before reports were timed on receipt: replaced.
  // One statement: the runs it could not move come back with whether they are still live (as of its snapshot).
  const rows = await db.execute<{ run_id: string; live: boolean }>(sql`
    with b as (
      select * from jsonb_to_recordset(${JSON.stringify(beats)}::jsonb) as b(run_id text, age_ms float8)
    ), held as (
      select r.id from ${instanceRuns} r
      where r.id in (select run_id from b) and r.ended_at is null
      for update of r skip locked
    ), moved as (
      update ${instanceRuns} set last_heartbeat_at = case
        when ${instanceRuns.lastHeartbeatAt} > now() then ${received}
        else greatest(${instanceRuns.lastHeartbeatAt}, ${received}) end
      from b where ${instanceRuns.id} = b.run_id and ${instanceRuns.id} in (select id from held) and ${instanceRuns.endedAt} is null
      returning ${instanceRuns.id}
    )
    select b.run_id, exists (select from ${instanceRuns} r where r.id = b.run_id and r.ended_at is null) as live
    from b where not exists (select from moved where moved.id = b.run_id)`);
  return { ended: rows.filter((row) => !row.live).map((row) => row.run_id), busy: rows.filter((row) => row.live).map((row) => row.run_id) };
}

/** Ends the account is alerted to: the pod failed, was lost or reclaimed, never became healthy, or could not be placed. */
export const FAILED_ENDS = ["failed", "lost", "reclaimed", "non_bootstrap", "placement_failed"] as const satisfies readonly RunEndReason[];

export interface EndRunInput {
  runId: string;
  reason: RunEndReason;
  /** Why, in words people read (the provider's error, the exit code, who stopped it): `end_reason`. */
  detail: string;
  /** The instance's move that goes with the end (to stopping, failed, non_bootstrap), in the same transaction. */
  transition: TransitionRequest;
  /** Ends nothing unless the instance is still in one of these states with this run current (re-checked under the lock). */
  from?: readonly InstanceState[];
}

export interface EndRunResult {
  instance: Instance;
  /** False when the run had already ended: its `ended_at` and reason stay as first written. */
  ended: boolean;
}

/**
 * Ends a run where billing must stop: stamps `ended_at` with the database clock (the same `now()` as the
 * transition's event, one transaction), the typed reason and the words, only if the run has not ended yet;
 * writes the instance's transition; and enqueues the run's settlement and the pod's release with them, so
 * an end is never left unsettled or its pod running. A failure raises its alert in the same transaction. Returns null (nothing written) when `from` no longer holds.
 */
export async function endRun(db: Executor, jobs: JobQueue, input: EndRunInput): Promise<EndRunResult | null> {
  return withTransaction(db, async (tx) => {
    const [run] = await tx.select({ instanceId: instanceRuns.instanceId }).from(instanceRuns).where(eq(instanceRuns.id, input.runId));
    if (!run) throw new NotFoundError("Run", input.runId);
    // The instance first, then the run: the order every writer takes.
    const [current] = await tx.select().from(instances).where(eq(instances.id, run.instanceId)).for("update");
    if (!current) throw new NotFoundError("Instance", run.instanceId);
    if (input.from && (!input.from.includes(current.state) || current.currentRunId !== input.runId)) return null;
    const ended = await tx
      .update(instanceRuns)
      .set({ endedAt: sql`now()`, endedBecause: input.reason, endReason: input.detail })
      .where(and(eq(instanceRuns.id, input.runId), isNull(instanceRuns.endedAt)))
      .returning({ id: instanceRuns.id });
    const instance = await transition(tx, run.instanceId, input.transition);
    if (ended.length > 0) {
      await jobs.send("billing.settle-run", { runId: input.runId }, { tx });
      // Every end releases the pod (if any) and settles a stop as `stopped`: one job, idempotent.
      await jobs.send("instances.stop", { instanceId: run.instanceId, runId: input.runId }, { tx, singletonKey: `stop:${input.runId}` });
      if ((FAILED_ENDS as readonly RunEndReason[]).includes(input.reason)) {
        const alert = failureAlert({
          runId: input.runId,
          instance: { id: current.id, name: displayName(current) },
          endedBecause: input.reason,
          detail: input.detail,
        });
        await notify(tx, jobs, current.accountId, alert);
      }
    }
    return { instance, ended: ended.length > 0 };
  });
}

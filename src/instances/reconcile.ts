import { and, eq, inArray, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { instanceRuns, instances } from "../../db/schema";
import type { JobQueue } from "../jobs/queue";
import { findProvider } from "../providers/registry";
import type { Provider } from "../providers/seam";
import { endReclaimedRun } from "./reclaim";
import { endRun, podRefOf, recordAddress } from "./runs";
import type { InstanceState } from "./state-machine";
import { podStates } from "./state-machine";

export interface ReconcileDeps {
  db: Database;
  jobs: JobQueue;
  providers: Provider[];
  bootstrapDeadlineSeconds: number;
  heartbeatTimeoutSeconds: number;
  /** A provisioning claim not renewed this long belongs to a dead worker (PROVISION_LEASE_SECONDS). */
  provisionLeaseSeconds: number;
  /** A pod younger than this is never called an orphan: its provisioning may not have been recorded yet. */
  orphanGraceSeconds?: number;
}

export interface ReconcileReport {
  nonBootstrap: string[];
  lost: string[];
  /** Community pods their provider took back: re-placed (smart) or stopped (pinned). */
  reclaimed: string[];
  /** Runs whose pod's address arrived after it was made (a cloud pod's IP, after boot). */
  addressed: string[];
  orphansStopped: string[];
  requeued: string[];
}

/**
 * Makes the database and the providers agree, whatever crashed in between:
 * pods that never became healthy are released as non_bootstrap, running
 * instances whose pod is gone fail (or, reclaimed by their provider, are
 * re-placed or stopped), pods no live run owns are stopped, and
 * work whose job was lost (a pending run never provisioned, a stop never
 * finished, a provisioner whose lease lapsed) is enqueued again. Every step is idempotent.
 */
export async function reconcile(deps: ReconcileDeps): Promise<ReconcileReport> {
  const report: ReconcileReport = { nonBootstrap: [], lost: [], reclaimed: [], addressed: [], orphansStopped: [], requeued: [] };
  await recordLateAddresses(deps, report);
  await releaseNonBootstrap(deps, report);
  await failLostPods(deps, report);
  await requeueLostJobs(deps, report);
  await stopOrphans(deps, report);
  return report;
}

/** Status calls per provider per pass for pods whose address is still unknown: the clouds' rate limits are per account. */
const ADDRESS_CHECKS_PER_PROVIDER = 20;

/**
 * A serving pod made without an address yet: its provider is asked (a bounded number per provider per pass,
 * longest waiting first) and the address recorded once known, from when the proxy routes to it.
 */
async function recordLateAddresses(deps: ReconcileDeps, report: ReconcileReport) {
  const waiting = await deps.db
    .select({ run: instanceRuns })
    .from(instances)
    .innerJoin(instanceRuns, eq(instanceRuns.id, instances.currentRunId))
    .where(
      and(
        inArray(instances.state, ["pending", "running"]),
        isNotNull(instances.servingName),
        isNotNull(instanceRuns.podId),
        isNull(instanceRuns.runtimeUrl),
        isNull(instanceRuns.endedAt),
      ),
    )
    .orderBy(instanceRuns.createdAt);
  const asked = new Map<string, number>();
  for (const { run } of waiting) {
    const provider = findProvider(deps.providers, run.providerId);
    const pod = podRefOf(run);
    const count = asked.get(run.providerId ?? "") ?? 0;
    if (!provider || !pod || count >= ADDRESS_CHECKS_PER_PROVIDER) continue;
    asked.set(provider.id, count + 1);
    const status = await provider.status(pod).catch(() => null);
    const address = status && (status.state === "running" || status.state === "starting") ? status.address : null;
    if (address?.runtimeUrl && (await recordAddress(deps.db, run.id, address))) report.addressed.push(run.id);
  }
}

async function releaseNonBootstrap(deps: ReconcileDeps, report: ReconcileReport) {
  const stale = await deps.db
    .select({ instance: instances, run: instanceRuns })
    .from(instances)
    .innerJoin(instanceRuns, eq(instanceRuns.id, instances.currentRunId))
    .where(
      and(
        eq(instances.state, "pending"),
        isNull(instanceRuns.runningAt),
        lt(instanceRuns.createdAt, sql`now() - make_interval(secs => ${deps.bootstrapDeadlineSeconds})`),
      ),
    );
  for (const { instance, run } of stale) {
    const reason = `The runtime did not become healthy within ${deadline(deps.bootstrapDeadlineSeconds)} of placement.`;
    const remediation =
      "The model may be too large for the GPUs, its weights broken, or the pod out of memory: check the runtime log, pick larger GPUs or a shorter context, then Start again.";
    // Re-checked under the lock: the runtime may have become healthy since the query.
    if (await endSilentRun(deps, instance.state, run.id, "non_bootstrap", reason, remediation)) report.nonBootstrap.push(instance.id);
  }
}

async function failLostPods(deps: ReconcileDeps, report: ReconcileReport) {
  const silent = await deps.db
    .select({ instance: instances, run: instanceRuns })
    .from(instances)
    .innerJoin(instanceRuns, eq(instanceRuns.id, instances.currentRunId))
    .where(
      and(
        eq(instances.state, "running"),
        // A heartbeat dated in the future proves nothing: it was written from a pod's clock, before reports were timed on receipt.
        lt(
          sql`coalesce(case when ${instanceRuns.lastHeartbeatAt} <= now() then ${instanceRuns.lastHeartbeatAt} end, ${instanceRuns.runningAt})`,
          sql`now() - make_interval(secs => ${deps.heartbeatTimeoutSeconds})`,
        ),
      ),
    );
  for (const { instance, run } of silent) {
    const provider = findProvider(deps.providers, run.providerId);
    const pod = podRefOf(run);
    const status = provider && pod ? await provider.status(pod) : { state: "gone" as const, reason: "" };
    if (status.state === "running") continue; // alive, only out of touch: its next heartbeat settles it
    if (status.state === "reclaimed") {
      // Heartbeats stop when a provider takes a pod back: the silence is how a reclaim is noticed, at a rate bounded by the timeout.
      const reclaim = { providerId: run.providerId!, at: status.at, reason: status.reason };
      if (await endReclaimedRun(deps.db, deps.jobs, instance, run.id, reclaim)) report.reclaimed.push(instance.id);
      continue;
    }
    const reason = `The pod stopped responding: ${status.state === "exited" ? status.reason : "its provider no longer has it"}.`;
    const remediation = "Start the instance again; if it keeps happening, check the runtime log or try another GPU type or region.";
    // Re-checked under the lock: a stop or a crash report may have ended the run since the query.
    if (await endSilentRun(deps, instance.state, run.id, "lost", reason, remediation)) report.lost.push(instance.id);
  }
}

/** Ends a run the reconciler found silent (never healthy, or gone), unless its instance left `state` meanwhile. */
async function endSilentRun(deps: ReconcileDeps, state: InstanceState, runId: string, because: "non_bootstrap" | "lost", reason: string, remediation: string) {
  const ended = await endRun(deps.db, deps.jobs, {
    runId,
    reason: because,
    detail: reason,
    from: [state],
    transition: {
      to: because === "lost" ? "failed" : "non_bootstrap",
      cause: reason,
      detail: { remediation },
      patch: { failureReason: reason, failureRemediation: remediation, progress: null },
    },
  });
  return ended !== null;
}

async function requeueLostJobs(deps: ReconcileDeps, report: ReconcileReport) {
  await requeueProvisioning(deps, report);
  const stopping = await deps.db
    .select({ instanceId: instances.id, runId: instanceRuns.id })
    .from(instances)
    .innerJoin(instanceRuns, eq(instanceRuns.id, instances.currentRunId))
    .where(and(eq(instances.state, "stopping"), lt(instances.stateChangedAt, sql`now() - interval '60 seconds'`)));
  for (const row of stopping) {
    // On pg-boss's standard queues a singleton key alone dedupes nothing; with singletonSeconds it allows one
    // job per key per minute, whatever the state of the last one: the stop job is idempotent, this bounds the pile.
    const sent = await deps.jobs.send(
      "instances.stop",
      { instanceId: row.instanceId, runId: row.runId },
      { singletonKey: `stop:${row.runId}`, singletonSeconds: 60 },
    );
    if (sent) report.requeued.push(row.instanceId);
  }
}

/**
 * Pending runs with no pod and no live provisioner: the claim lapsed (its worker died mid-provisioning), or
 * nobody claimed the run a whole lease after it was queued (the job was lost before a worker took it). A live
 * provisioner renews its claim, so its run is never selected here. The new job takes the run over, stopping
 * any pod the dead one was making.
 */
async function requeueProvisioning(deps: ReconcileDeps, report: ReconcileReport) {
  const lapsed = sql`now() - make_interval(secs => ${deps.provisionLeaseSeconds})`;
  const waiting = await deps.db
    .select({ instanceId: instances.id, runId: instanceRuns.id, claimedAt: instanceRuns.claimedAt })
    .from(instances)
    .innerJoin(instanceRuns, eq(instanceRuns.id, instances.currentRunId))
    .where(
      and(
        eq(instances.state, "pending"),
        isNull(instanceRuns.podId),
        isNull(instanceRuns.endedAt),
        or(lt(instanceRuns.claimedAt, lapsed), and(isNull(instanceRuns.claimedAt), lt(instances.stateChangedAt, lapsed))),
      ),
    );
  for (const row of waiting) {
    // The dead worker's job stays `active` until its expiry, but on this standard queue it blocks no new send.
    // The key names the lapsed claim and singletonSeconds makes it one job per lapsed claim per lease, so a
    // requeue that a worker has not picked up yet is not sent again every 10 s; a new lapse gets a new key.
    const key = `provision:${row.runId}:${row.claimedAt?.getTime() ?? "unclaimed"}`;
    const sent = await deps.jobs.send(
      "instances.provision",
      { instanceId: row.instanceId, runId: row.runId },
      { singletonKey: key, singletonSeconds: deps.provisionLeaseSeconds },
    );
    if (sent) report.requeued.push(row.instanceId);
  }
}

async function stopOrphans(deps: ReconcileDeps, report: ReconcileReport) {
  const graceMs = (deps.orphanGraceSeconds ?? 120) * 1000;
  for (const provider of deps.providers) {
    const pods = (await provider.pods()).filter((pod) => Date.now() - pod.createdAt.getTime() > graceMs);
    if (pods.length === 0) continue;
    const ids = pods.map((p) => p.podId);
    // A pod being provisioned (however slowly) is owned too; if its provisioner died, the one taking over stops it.
    const owned = await deps.db
      .select({ podId: instanceRuns.podId, provisioningPodId: instanceRuns.provisioningPodId })
      .from(instanceRuns)
      .innerJoin(instances, eq(instances.currentRunId, instanceRuns.id))
      .where(
        and(
          or(inArray(instanceRuns.podId, ids), inArray(instanceRuns.provisioningPodId, ids)),
          isNull(instanceRuns.endedAt),
          inArray(instances.state, [...podStates]),
        ),
      );
    const live = new Set(owned.flatMap((row) => [row.podId, row.provisioningPodId]));
    for (const pod of pods) {
      if (live.has(pod.podId)) continue;
      await provider.stop(pod);
      report.orphansStopped.push(pod.podId);
    }
  }
}

function deadline(seconds: number): string {
  return seconds >= 120 ? `${Math.round(seconds / 60)} min` : `${seconds} s`;
}

import { eq, inArray, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { budgets, instances, scheduleRules } from "../../db/schema";
import { recordAudit } from "../audit/record";
import { assertLaunchFunded, balanceSummary } from "../billing/grace";
import { type AccountContext, type Actor, withTransaction } from "../context";
import type { JobQueue } from "../jobs/queue";
import { maxHourlyRate } from "../pricing/snapshot";
import { assertWithinBudgets } from "../spend/budgets";
import { displayName, getInstance, getInstances } from "./queries";
import { beginRun, endRun, type RunEndReason } from "./runs";
import { servingNameFrom } from "./serving-name";
import { freeServingName } from "./serving-names";
import { canStart, canStop, IllegalTransitionError, type InstanceState } from "./state-machine";
import { type Instance, transition } from "./transition";

export interface LifecycleDeps {
  jobs: JobQueue;
  graceWindowHours: number;
  minRunwayHours: number;
}

/** "by ada@example.com", "by API key key_…", "by the platform": who caused a transition, for the timeline. */
export function byWhom(actor: Actor, email?: string | null): string {
  if (actor.kind === "user") return `by ${email ?? actor.userId}`;
  if (actor.kind === "apiKey") return `by API key ${actor.keyId}`;
  if (actor.kind === "schedule") return `by schedule rule ${actor.ruleId}`;
  return "by the platform";
}

/**
 * Stop: the run ends now, as the instance enters `stopping` (billing stops at the request, not when the pod
 * is gone), and a job releases its pod and settles the instance as `stopped`. All commit together, so a stop
 * is never lost. `reason` says who wanted it: the user (or a schedule), the grace window, a delete, a budget.
 */
export async function stopInstance(
  db: Executor,
  jobs: JobQueue,
  instance: Instance,
  cause: string,
  reason: Extract<RunEndReason, "stopped" | "grace" | "deleted" | "budget"> = "stopped",
): Promise<Instance> {
  return withTransaction(db, async (tx) => {
    const runId = instance.currentRunId;
    if (!runId) return transition(tx, instance.id, { to: "stopping", cause });
    return (await endRun(tx, jobs, { runId, reason, detail: cause, transition: { to: "stopping", cause } }))!.instance;
  });
}

/** A new run for the instance, back in `pending`, with its provisioning job (smart mode re-places it). */
export async function startRun(tx: Executor, jobs: JobQueue, instance: Instance, cause: string): Promise<Instance> {
  const runId = await beginRun(tx, instance.id);
  const pending = await transition(tx, instance.id, {
    to: "pending",
    cause,
    patch: {
      currentRunId: runId,
      progress: { phase: "queued", progress: null, message: "Waiting for placement", at: new Date().toISOString() },
      failureReason: null,
      failureRemediation: null,
    },
  });
  await jobs.send("instances.provision", { instanceId: instance.id, runId }, { tx, singletonKey: `provision:${runId}` });
  return pending;
}

export async function requestStop(ctx: AccountContext, jobs: JobQueue, instanceId: string, cause: string): Promise<Instance> {
  return withTransaction(ctx.db, async (tx) => {
    const instance = await getInstance({ ...ctx, db: tx }, instanceId, { lock: true });
    const stopped = await stopInstance(tx, jobs, instance, cause);
    await recordAudit({ ...ctx, db: tx }, stateChange("instance.stopped", instance, stopped));
    return stopped;
  });
}

/** Start: the same billing rules as a launch (no start in grace; the runway must be covered; no budget used up). */
export async function requestStart(ctx: AccountContext, deps: LifecycleDeps, instanceId: string, cause: string): Promise<Instance> {
  return withTransaction(ctx.db, async (tx) => {
    const instance = await getInstance({ ...ctx, db: tx }, instanceId, { lock: true });
    if (!canStart(instance.state)) {
      throw new IllegalTransitionError(instance.state, "pending", `Instance '${displayName(instance)}'`);
    }
    const summary = await balanceSummary(tx, ctx.accountId, deps.graceWindowHours);
    assertLaunchFunded(summary, { hourlyRateCents: maxHourlyRate(instance.pricingSnapshot), minRunwayHours: deps.minRunwayHours });
    await assertWithinBudgets(tx, ctx.accountId, instance);
    const started = await startOrRename(tx, deps, instance, cause);
    await recordAudit({ ...ctx, db: tx }, stateChange("instance.started", instance, started));
    return started;
  });
}

/** A failure that never served may have given its serving name to a later launch: it serves under a free one now. */
async function startOrRename(tx: Executor, deps: LifecycleDeps, instance: Instance, cause: string): Promise<Instance> {
  if (instance.hfRepo && instance.servingName === null) {
    const servingName = await freeServingName(tx, instance.accountId, servingNameFrom(instance.hfRepo));
    await tx.update(instances).set({ servingName }).where(eq(instances.id, instance.id));
    return startRun(tx, deps.jobs, { ...instance, servingName }, `${cause}, serving as '${servingName}' (its earlier name went to another instance)`);
  }
  return startRun(tx, deps.jobs, instance, cause);
}

/** An instance's state change for the audit trail: the state it left, the one it entered, and why when the platform acted. */
export function stateChange(
  kind: "instance.stopped" | "instance.started",
  before: Instance,
  after: { state: InstanceState; servingName?: string | null },
  reason?: RunEndReason,
) {
  const renamed = after.servingName !== undefined && after.servingName !== before.servingName;
  return {
    kind,
    subjectId: before.id,
    changes: {
      before: { state: before.state, ...(renamed && { servingName: before.servingName }) },
      after: { state: after.state, ...(renamed && { servingName: after.servingName ?? null }), ...(reason && { reason }) },
    },
  };
}

export interface BulkResult {
  changed: string[];
  /** Instances left as they were, with why (already stopped, …). */
  skipped: { id: string; state: InstanceState; reason: string }[];
}

/** Stop many, in one transaction: all the stops commit together. Instances that cannot stop are reported, not failed. */
export async function stopMany(ctx: AccountContext, jobs: JobQueue, instanceIds: string[], cause: string): Promise<BulkResult> {
  return withTransaction(ctx.db, async (tx) => {
    const result: BulkResult = { changed: [], skipped: [] };
    for (const instance of await getInstances({ ...ctx, db: tx }, instanceIds)) {
      if (canStop(instance.state)) {
        const stopped = await stopInstance(tx, jobs, instance, cause);
        await recordAudit({ ...ctx, db: tx }, stateChange("instance.stopped", instance, stopped));
        result.changed.push(instance.id);
      } else {
        result.skipped.push({ id: instance.id, state: instance.state, reason: `already ${instance.state.replace("_", "-")}` });
      }
    }
    return result;
  });
}

/**
 * Delete: a live pod is stopped first, its run ending as `deleted` (billed time is not refunded), then
 * the instance leaves every list and its serving name is free again. The
 * row stays, because the ledger and the usage history refer to it.
 */
export async function deleteMany(ctx: AccountContext, jobs: JobQueue, instanceIds: string[], cause: string): Promise<BulkResult> {
  return withTransaction(ctx.db, async (tx) => {
    const found = await getInstances({ ...ctx, db: tx }, instanceIds);
    for (const instance of found) {
      // A stopped (or failed) instance has no live run: nothing to end.
      if (canStop(instance.state)) await stopInstance(tx, jobs, instance, `${cause} (deleted)`, "deleted");
      const before = { state: instance.state, name: instance.name, servingName: instance.servingName };
      await recordAudit({ ...ctx, db: tx }, { kind: "instance.deleted", subjectId: instance.id, changes: { before, after: { deleted: true } } });
    }
    const changed = found.map((instance) => instance.id);
    if (changed.length > 0) {
      await tx.update(instances).set({ deletedAt: sql`now()`, updatedAt: sql`now()` }).where(inArray(instances.id, changed));
      // A deleted instance spends nothing more and is started by nothing: its budget and schedule rules go with
      // it, in this transaction (its alerts and its schedule history stay readable).
      await tx.delete(budgets).where(inArray(budgets.instanceId, changed));
      await tx.delete(scheduleRules).where(inArray(scheduleRules.instanceId, changed));
    }
    return { changed, skipped: [] };
  });
}

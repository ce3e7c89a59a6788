import { and, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { instanceRuns, instances } from "../../db/schema";
import type { JobQueue } from "../jobs/queue";
import type { Provider } from "../providers/provider";
import { transition } from "./transition";

export interface ReconcileDeps {
  db: Database;
  jobs: JobQueue;
  providers: Provider[];
  bootstrapDeadlineSeconds: number;
  heartbeatTimeoutSeconds: number;
  /** A pod younger than this is never called an orphan: its provisioning may not have been recorded yet. */
  orphanGraceSeconds?: number;
}

export interface ReconcileReport {
  nonBootstrap: string[];
  lost: string[];
  orphansStopped: string[];
  requeued: string[];
}

/**
 * Makes the database and the providers agree, whatever crashed in between:
 * pods that never became healthy are released as non_bootstrap, running
 * instances whose pod is gone fail, pods no live run owns are stopped, and
 * work whose job was lost (a pending run never provisioned, a stop never
 * finished) is enqueued again. Every step is idempotent.
 */
export async function reconcile(deps: ReconcileDeps): Promise<ReconcileReport> {
  const report: ReconcileReport = { nonBootstrap: [], lost: [], orphansStopped: [], requeued: [] };
  await releaseNonBootstrap(deps, report);
  await failLostPods(deps, report);
  await requeueLostJobs(deps, report);
  await stopOrphans(deps, report);
  return report;
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
    const remediation = "The model may be too large for the GPUs, its weights broken, or the pod out of memory: check the runtime log, pick larger GPUs or a shorter context, then Start again.";
    await deps.db.transaction(async (tx) => {
      await tx.update(instanceRuns).set({ endedAt: sql`now()`, endReason: "non_bootstrap" }).where(and(eq(instanceRuns.id, run.id), isNull(instanceRuns.endedAt)));
      await transition(tx, instance.id, { to: "non_bootstrap", cause: reason, detail: { remediation }, patch: { failureReason: reason, failureRemediation: remediation, progress: null } });
      await deps.jobs.send("instances.stop", { instanceId: instance.id, runId: run.id }, { tx, singletonKey: `stop:${run.id}` });
    });
    report.nonBootstrap.push(instance.id);
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
        lt(sql`coalesce(${instanceRuns.lastHeartbeatAt}, ${instanceRuns.runningAt})`, sql`now() - make_interval(secs => ${deps.heartbeatTimeoutSeconds})`),
      ),
    );
  for (const { instance, run } of silent) {
    const provider = deps.providers.find((p) => p.id === run.providerId);
    const status = provider && run.podId ? await provider.status(run.podId) : { state: "gone" as const, reason: "" };
    if (status.state === "running") continue; // alive, only out of touch: its next heartbeat settles it
    const reason = `The pod stopped responding: ${status.state === "exited" ? status.reason : "its provider no longer has it"}.`;
    const remediation = "Start the instance again; if it keeps happening, check the runtime log or try another GPU type or region.";
    await deps.db.transaction(async (tx) => {
      await tx.update(instanceRuns).set({ endedAt: sql`now()`, endReason: reason }).where(and(eq(instanceRuns.id, run.id), isNull(instanceRuns.endedAt)));
      await transition(tx, instance.id, { to: "failed", cause: reason, detail: { remediation }, patch: { failureReason: reason, failureRemediation: remediation, progress: null } });
      await deps.jobs.send("instances.stop", { instanceId: instance.id, runId: run.id }, { tx, singletonKey: `stop:${run.id}` });
    });
    report.lost.push(instance.id);
  }
}

async function requeueLostJobs(deps: ReconcileDeps, report: ReconcileReport) {
  const waiting = await deps.db
    .select({ instanceId: instances.id, state: instances.state, runId: instances.currentRunId, podId: instanceRuns.podId })
    .from(instances)
    .innerJoin(instanceRuns, eq(instanceRuns.id, instances.currentRunId))
    .where(and(inArray(instances.state, ["pending", "stopping"]), lt(instances.stateChangedAt, sql`now() - interval '60 seconds'`)));
  for (const row of waiting) {
    if (row.state === "pending" && row.podId) continue; // provisioned; booting
    const name = row.state === "pending" ? "instances.provision" : "instances.stop";
    const key = `${row.state === "pending" ? "provision" : "stop"}:${row.runId}`;
    // The singleton key makes this a no-op while the original job is still queued or running.
    if (await deps.jobs.send(name, { instanceId: row.instanceId, runId: row.runId! }, { singletonKey: key })) report.requeued.push(row.instanceId);
  }
}

async function stopOrphans(deps: ReconcileDeps, report: ReconcileReport) {
  const graceMs = (deps.orphanGraceSeconds ?? 120) * 1000;
  for (const provider of deps.providers) {
    const pods = (await provider.pods()).filter((pod) => Date.now() - pod.createdAt.getTime() > graceMs);
    if (pods.length === 0) continue;
    const owned = await deps.db
      .select({ podId: instanceRuns.podId })
      .from(instanceRuns)
      .innerJoin(instances, eq(instances.currentRunId, instanceRuns.id))
      .where(and(inArray(instanceRuns.podId, pods.map((p) => p.podId)), isNull(instanceRuns.endedAt), inArray(instances.state, ["pending", "running", "stopping"])));
    const live = new Set(owned.map((row) => row.podId));
    for (const pod of pods) {
      if (live.has(pod.podId)) continue;
      await provider.stop(pod.podId);
      report.orphansStopped.push(pod.podId);
    }
  }
}

function deadline(seconds: number): string {
  return seconds >= 120 ? `${Math.round(seconds / 60)} min` : `${seconds} s`;
}

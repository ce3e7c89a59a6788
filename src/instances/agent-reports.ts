import { eq } from "drizzle-orm";
import type { Database } from "../../db/client";
import { instances } from "../../db/schema";
import type { JobQueue } from "../jobs/queue";
import type { HeartbeatBody, SampleBody, WorkloadReport } from "./agent-contract";
import type { AgentRun } from "./agent-directory";
import type { HeartbeatBatcher } from "./heartbeats";
import { endRun, markRunning } from "./runs";
import { type InstanceState, isLiveRunState, liveRunStates } from "./state-machine";
import { transition } from "./transition";

export type HeartbeatOutcome = "ok" | "gone";

/**
 * A heartbeat from a pod's agent. Time and boot progress are batched; the
 * moments that change an instance's state are written at once: the runtime's
 * health check passing (pending → running) and its process dying (→ failed).
 */
export async function handleHeartbeat(db: Database, jobs: JobQueue, batcher: HeartbeatBatcher, run: AgentRun, body: HeartbeatBody): Promise<HeartbeatOutcome> {
  if (run.ended || !run.current || body.runId !== run.runId) return "gone";
  const workload = body.workload;
  // Timed by the api on receipt (the batcher stamps it); the pod's `at` moves nothing.
  const progress = workload.state === "starting" ? { phase: workload.phase, progress: workload.progress, message: workload.message } : null;
  batcher.recordBeat(run.runId, run.instanceId, body.at, progress);

  if (workload.state === "ready" && run.state === "pending") {
    run.state = (await reportReady(db, run)) ?? run.state;
  } else if (workload.state === "exited" && isLiveRunState(run.state)) {
    run.state = (await reportExit(db, jobs, run, workload)) ?? run.state;
  }
  // The cached entry too: once the instance has left the live states its run has ended, and later reports are refused.
  if (!isLiveRunState(run.state)) run.ended = true;
  return "ok";
}

export function handleSamples(batcher: HeartbeatBatcher, run: AgentRun, body: SampleBody): HeartbeatOutcome {
  if (run.ended || !run.current || body.runId !== run.runId) return "gone";
  batcher.recordSample(run.runId, run.instanceId, body);
  return "ok";
}

async function reportReady(db: Database, run: AgentRun): Promise<InstanceState | null> {
  return db.transaction(async (tx) => {
    const [instance] = await tx.select().from(instances).where(eq(instances.id, run.instanceId)).for("update");
    if (instance?.state !== "pending" || instance.currentRunId !== run.runId) return instance?.state ?? null;
    await markRunning(tx, run.runId);
    await transition(tx, run.instanceId, { to: "running", cause: "the runtime passed its health check", patch: { progress: null } });
    return "running";
  });
}

/** The runtime's process died: the run ends as `failed` now, and the pod is released by the stop job. */
async function reportExit(db: Database, jobs: JobQueue, run: AgentRun, exit: Extract<WorkloadReport, { state: "exited" }>): Promise<InstanceState | null> {
  return db.transaction(async (tx) => {
    const [instance] = await tx.select().from(instances).where(eq(instances.id, run.instanceId)).for("update");
    if (!instance || !isLiveRunState(instance.state) || instance.currentRunId !== run.runId) return instance?.state ?? null;
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode ?? "unknown"}`;
    const reason = `The runtime process ${how}${instance.state === "pending" ? " while starting" : ""}.`;
    const remediation = remediationFor(exit, instance.state);
    const ended = await endRun(tx, jobs, {
      runId: run.runId,
      reason: "failed",
      detail: reason,
      from: liveRunStates,
      transition: {
        to: "failed",
        cause: reason,
        detail: { exitCode: exit.exitCode, signal: exit.signal, lastLines: exit.lastLines, remediation },
        patch: { failureReason: reason, failureRemediation: remediation, progress: null },
      },
    });
    return ended ? "failed" : instance.state;
  });
}

/** A hint people can act on, from how the process ended and what it printed last. */
export function remediationFor(exit: Extract<WorkloadReport, { state: "exited" }>, state: InstanceState): string {
  const lines = exit.lastLines.toLowerCase();
  if (exit.signal === "SIGKILL" || exit.exitCode === 137 || lines.includes("out of memory")) {
    return "The pod ran out of memory or was killed. Pick GPUs with more VRAM, a shorter context length, or a smaller model, then Start again.";
  }
  if (state === "pending")
    return "The runtime could not start. Check the runtime log on the Details tab (wrong weights, unsupported options), then Start again.";
  return "The runtime stopped unexpectedly. Check the runtime log on the Details tab, then Start the instance again.";
}

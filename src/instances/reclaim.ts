import { and, desc, eq } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { instanceEvents } from "../../db/schema";
import { newId } from "../ids";
import type { JobQueue } from "../jobs/queue";
import { beginRun, endRun } from "./runs";
import type { Instance } from "./transition";

export interface Reclaim {
  providerId: string;
  /** When the provider took the pod back, by its own account: words for people, never a billing time. */
  at: Date;
  reason: string;
}

/**
 * A running instance whose community pod its provider took back. The run ends as `reclaimed` (billing stopped
 * with its last heartbeat, which the reclaim silenced, and an early end is refunded as any early failure). In
 * smart mode the instance goes back to `pending` with a new run and its provisioning job, in the same
 * transaction, so the usual placement and failover find it new capacity; pinned, it is `stopped` with the cause,
 * since its provider is the only one it may use. Returns null when the instance had already moved on.
 */
export async function endReclaimedRun(db: Executor, jobs: JobQueue, instance: Instance, runId: string, reclaim: Reclaim): Promise<Instance | null> {
  const taken = `its community pod was reclaimed by ${reclaim.providerId} (${reclaim.reason}) at ${reclaim.at.toISOString()}`;
  if (instance.placementMode === "pinned") {
    const cause = `Stopped: ${taken}. Pinned instances stay on their provider: start it again when capacity is back.`;
    const ended = await endRun(db, jobs, {
      runId,
      reason: "reclaimed",
      detail: taken,
      from: ["running"],
      transition: { to: "stopped", cause, patch: { progress: null } },
    });
    return ended?.instance ?? null;
  }
  const nextRunId = newId("run");
  // Its own transaction (a savepoint inside a caller's), so rolling back the re-placement undoes nothing else.
  return db
    .transaction(async (tx) => {
      // The new run first (the instance points at it), with its provisioning; both undone if the instance moved on.
      await beginRun(tx, instance.id, nextRunId);
      const ended = await endRun(tx, jobs, {
        runId,
        reason: "reclaimed",
        detail: taken,
        from: ["running"],
        transition: {
          to: "pending",
          cause: `Re-placing: ${taken}.`,
          patch: {
            currentRunId: nextRunId,
            progress: { phase: "queued", progress: null, message: "Re-placing after a reclaim", at: new Date().toISOString() },
          },
        },
      });
      if (!ended) throw new MovedOn();
      await jobs.send("instances.provision", { instanceId: instance.id, runId: nextRunId }, { tx, singletonKey: `provision:${nextRunId}` });
      return ended.instance;
    })
    .catch((error) => {
      if (error instanceof MovedOn) return null;
      throw error;
    });
}

/** Rolls the re-placement back: a stop or another end got to the run first. */
class MovedOn extends Error {}

/** Whether the instance's pending run is a re-placement after a reclaim: it came back to pending from running. */
export async function isReplacement(tx: Executor, instanceId: string): Promise<boolean> {
  const [last] = await tx
    .select({ from: instanceEvents.fromState })
    .from(instanceEvents)
    .where(and(eq(instanceEvents.instanceId, instanceId), eq(instanceEvents.toState, "pending")))
    .orderBy(desc(instanceEvents.at), desc(instanceEvents.id))
    .limit(1);
  return last?.from === "running";
}

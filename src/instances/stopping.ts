import { eq } from "drizzle-orm";
import type { Database } from "../../db/client";
import { instanceRuns, instances } from "../../db/schema";
import { providerById } from "../providers/registry";
import type { Provider } from "../providers/seam";
import { podRefOf } from "./runs";
import { transition } from "./transition";

/**
 * The stop job: terminates the run's pod at its provider and settles the instance as `stopped`. The run
 * itself ended earlier, with the stop request (or the failure) that sent this job: billing never waits for a
 * provider. Also releases the pod of a run that failed (the instance then stays `failed`). Idempotent:
 * stopping a gone pod is a no-op and an instance no longer `stopping` is left as it is.
 */
export async function settleStop(db: Database, providers: Provider[], instanceId: string, runId: string): Promise<"stopped" | "skipped"> {
  const [run] = await db.select().from(instanceRuns).where(eq(instanceRuns.id, runId));
  if (!run) return "skipped";
  const pod = podRefOf(run);
  if (pod && run.providerId) await providerById(providers, run.providerId).stop(pod);
  return db.transaction(async (tx) => {
    const [instance] = await tx.select().from(instances).where(eq(instances.id, instanceId)).for("update");
    if (instance?.state !== "stopping" || instance.currentRunId !== runId) return "skipped";
    await transition(tx, instanceId, { to: "stopped", cause: "pod terminated and released", patch: { progress: null } });
    return "stopped";
  });
}

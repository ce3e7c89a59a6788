import { settleStop } from "../src/instances/stopping";
import { defineJob } from "./job";

/** Terminates a stopping instance's pod and settles it as stopped. */
export const stop = defineJob({
  name: "instances.stop",
  queue: { retryLimit: 10, retryDelay: 2, retryBackoff: true, expireInSeconds: 120 },
  async handle({ instanceId, runId }, { db, providers }) {
    return { outcome: await settleStop(db, providers, instanceId, runId) };
  },
});

import { provisionRun } from "../src/instances/provisioning";
import { defineJob } from "./job";

/** Places a pending run and provisions its pod (with failover). */
export const provision = defineJob({
  name: "instances.provision",
  queue: { retryLimit: 3, retryDelay: 2, retryBackoff: true, expireInSeconds: 300 },
  async handle({ instanceId, runId }, { db, config, providers }) {
    const outcome = await provisionRun(
      { db, providers, controlUrl: config.AGENT_CONTROL_URL, hubEndpoint: config.HF_ENDPOINT, maxAttempts: config.PLACEMENT_MAX_ATTEMPTS },
      instanceId,
      runId,
    );
    return { outcome };
  },
});

import { provisionRun } from "../src/instances/provisioning";
import { defineJob } from "./job";

/**
 * Places a pending run and provisions its pod (with failover). A worker that dies mid-way is not waited for
 * until the job's expiry: its lease on the run lapses (PROVISION_LEASE_SECONDS) and the reconciler sends
 * another job, which takes the run over.
 */
export const provision = defineJob({
  name: "instances.provision",
  queue: { retryLimit: 3, retryDelay: 2, retryBackoff: true, expireInSeconds: 300 },
  async handle({ instanceId, runId }, { db, config, jobs, providers }) {
    const outcome = await provisionRun(
      {
        db,
        jobs,
        providers,
        controlUrl: config.AGENT_CONTROL_URL,
        hubEndpoint: config.HF_ENDPOINT,
        maxAttempts: config.PLACEMENT_MAX_ATTEMPTS,
        leaseSeconds: config.PROVISION_LEASE_SECONDS,
      },
      instanceId,
      runId,
    );
    return { outcome };
  },
});

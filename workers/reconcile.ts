import { reconcile } from "../src/instances/reconcile";
import { log } from "../src/platform/log";
import { defineJob } from "./job";

/** Every minute, at start-up and every few seconds from the workers' loop: database and providers agree. */
export const reconcileJob = defineJob({
  name: "instances.reconcile",
  queue: { retryLimit: 0, expireInSeconds: 120, deleteAfterSeconds: 600 },
  schedule: "* * * * *",
  async handle(_payload, { db, jobs, providers, config }) {
    const report = await reconcile({
      db,
      jobs,
      providers,
      bootstrapDeadlineSeconds: config.BOOTSTRAP_DEADLINE_SECONDS,
      heartbeatTimeoutSeconds: config.HEARTBEAT_TIMEOUT_SECONDS,
      provisionLeaseSeconds: config.PROVISION_LEASE_SECONDS,
    });
    const changed = Object.values(report).some((list) => list.length > 0);
    if (changed) log.info({ job: "instances.reconcile", report }, "reconcile");
    return report;
  },
});

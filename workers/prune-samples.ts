import { log } from "../src/platform/log";
import { pruneResourceSamples } from "../src/usage/prune-samples";
import { defineJob } from "./job";

/** Every 5 minutes: deletes resource samples past their retention; two overlapping runs share the rows. */
export const pruneSamples = defineJob({
  name: "usage.prune-samples",
  queue: { retryLimit: 1, expireInSeconds: 240, deleteAfterSeconds: 3600 },
  schedule: "*/5 * * * *",
  async handle(_payload, { db, config }) {
    const report = await pruneResourceSamples(db, { retentionHours: config.RESOURCE_SAMPLE_RETENTION_HOURS });
    if (report.deleted > 0) log.info({ job: "usage.prune-samples", report }, "prune samples");
    return report;
  },
});

import { log } from "../src/platform/log";
import { foldUsageDays } from "../src/usage/fold";
import { defineJob } from "./job";

/** Every 10 minutes: folds the UTC days that ended over an hour ago; two overlapping runs leave it to one. */
export const foldUsage = defineJob({
  name: "usage.fold-days",
  queue: { retryLimit: 2, expireInSeconds: 540, deleteAfterSeconds: 3600 },
  schedule: "*/10 * * * *",
  async handle(_payload, { db }) {
    const report = await foldUsageDays(db);
    if (report.days > 0) log.info({ job: "usage.fold-days", report }, "fold usage days");
    return report;
  },
});

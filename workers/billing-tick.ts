import { billingTick as tick } from "../src/metering/tick";
import { log } from "../src/platform/log";
import { defineJob } from "./job";

/** Bills running runs; every worker replica asks for it each BILLING_TICK_SECONDS, one job per slot (workers/main.ts). */
export const billingTick = defineJob({
  name: "billing.tick",
  queue: { retryLimit: 1, expireInSeconds: 300, deleteAfterSeconds: 3600 },
  async handle(_payload, { db, jobs }) {
    const report = await tick(db, { alerts: jobs });
    if (report.debits > 0 || report.settled > 0) log.info({ job: "billing.tick", report }, "billing tick");
    return report;
  },
});

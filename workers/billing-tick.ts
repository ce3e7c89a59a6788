import { billingTick as tick } from "../src/metering/tick";
import { defineJob } from "./job";

/**
 * Every BILLING_TICK_SECONDS: bills running runs. pg-boss cron has minute
 * resolution, so each tick first enqueues the next one BILLING_TICK_SECONDS
 * ahead; the singleton key and slot let one such job exist per slot however
 * many workers tick, and the cron schedule restarts the chain should it break.
 */
export const billingTick = defineJob({
  name: "billing.tick",
  queue: { retryLimit: 1, expireInSeconds: 300, deleteAfterSeconds: 3600 },
  schedule: "* * * * *",
  async handle(_payload, { db, jobs, config }) {
    const seconds = config.BILLING_TICK_SECONDS;
    await jobs.send("billing.tick", {}, { startAfter: seconds, singletonKey: "billing-tick", singletonSeconds: seconds });
    const report = await tick(db);
    if (report.debits > 0 || report.settled > 0) console.log("billing tick:", JSON.stringify(report));
    return report;
  },
});

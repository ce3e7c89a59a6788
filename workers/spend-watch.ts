import { log } from "../src/platform/log";
import { watchSpend } from "../src/spend/watch";
import { defineJob } from "./job";

/** Budgets, runway and grace alerts; every worker replica asks for it each BILLING_TICK_SECONDS, one job per slot (workers/main.ts). */
export const spendWatch = defineJob({
  name: "spend.watch",
  queue: { retryLimit: 1, expireInSeconds: 300, deleteAfterSeconds: 3600 },
  async handle(_payload, { db, jobs, config }) {
    const report = await watchSpend(db, jobs, { graceWindowHours: config.GRACE_WINDOW_HOURS });
    if (report.budgetAlerts + report.stopped + report.runwayAlerts + report.graceAlerts > 0) log.info({ job: "spend.watch", report }, "spend watch");
    return report;
  },
});

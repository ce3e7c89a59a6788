import { log } from "../src/platform/log";
import { fireDueRules, lifecycleAction } from "../src/schedules/fire";
import { defineJob } from "./job";

/** Due schedule rules; every worker replica asks for it each SCHEDULE_POLL_SECONDS, one job per slot (workers/main.ts). */
export const fireSchedules = defineJob({
  name: "schedules.fire",
  queue: { retryLimit: 1, expireInSeconds: 300, deleteAfterSeconds: 3600 },
  async handle(_payload, { db, jobs, config }) {
    const action = lifecycleAction({ jobs, graceWindowHours: config.GRACE_WINDOW_HOURS, minRunwayHours: config.MIN_RUNWAY_HOURS });
    const report = await fireDueRules(db, action, { catchUpSeconds: config.SCHEDULE_CATCH_UP_SECONDS });
    if (report.fired > 0) log.info({ job: "schedules.fire", report }, "schedules fired");
    return report;
  },
});

import { stopInstancesAfterGrace } from "../src/billing/grace-sweep";
import { defineJob } from "./job";

/** Every minute: stops the instances of accounts whose grace window has ended. */
export const graceSweep = defineJob({
  name: "billing.grace-sweep",
  queue: { retryLimit: 2, expireInSeconds: 120 },
  schedule: "* * * * *",
  async handle(_payload, { db, jobs, config }) {
    return { stopped: await stopInstancesAfterGrace(db, jobs, config.GRACE_WINDOW_HOURS) };
  },
});

import { settleRun as settle } from "../src/metering/settle";
import { defineJob } from "./job";

/** Enqueued with the end of a run: bills it to its end and refunds an early failure. Idempotent. */
export const settleRun = defineJob({
  name: "billing.settle-run",
  // A lost or failed settlement is also picked up by the next billing tick.
  queue: { retryLimit: 5, retryDelay: 5, retryBackoff: true, expireInSeconds: 120 },
  async handle({ runId }, { db, jobs }) {
    return settle(db, runId, jobs);
  },
});

import { log } from "../src/platform/log";
import { pruneRateLimitBuckets } from "../src/proxy/rate-limit-buckets";
import { defineJob } from "./job";

/** Every 10 minutes: forgets the /v1 rate-limit buckets of keys and sessions that went quiet (they are full). */
export const pruneRateLimits = defineJob({
  name: "proxy.prune-rate-limits",
  queue: { retryLimit: 1, expireInSeconds: 240, deleteAfterSeconds: 3600 },
  schedule: "*/10 * * * *",
  async handle(_payload, { db }) {
    const deleted = await pruneRateLimitBuckets(db);
    if (deleted > 0) log.info({ job: "proxy.prune-rate-limits", deleted }, "prune rate-limit buckets");
    return { deleted };
  },
});

import { defineJob } from "./job";

/** Answers with its nonce: a health check of the queue and the workers. */
export const ping = defineJob({
  name: "system.ping",
  queue: { retryLimit: 0, expireInSeconds: 30, deleteAfterSeconds: 3600 },
  async handle(payload) {
    return { pong: payload.nonce };
  },
});

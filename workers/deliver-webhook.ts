import { type Config, config } from "../src/config";
import { attemptDelivery } from "../src/webhooks/deliver";
import { webhookUrlPolicy } from "../src/webhooks/url-policy";
import { defineJob } from "./job";

type WebhookSettings = Pick<Config, "WEBHOOK_MAX_ATTEMPTS" | "WEBHOOK_RETRY_DELAY_SECONDS" | "WEBHOOK_TIMEOUT_SECONDS" | "WEBHOOK_ALLOW_PRIVATE_URLS">;

/**
 * One attempt per run: a failed attempt throws, and pg-boss retries with backoff until the last allowed one,
 * which ends the delivery as failed instead. The queue's retry limit and the handler's idea of "last" come from
 * the same settings, so they cannot disagree. Idempotent: a delivered delivery is not sent again.
 */
export function deliverWebhookJob(settings: WebhookSettings) {
  return defineJob({
    name: "webhooks.deliver",
    queue: {
      retryLimit: settings.WEBHOOK_MAX_ATTEMPTS - 1,
      retryDelay: settings.WEBHOOK_RETRY_DELAY_SECONDS,
      retryBackoff: true,
      expireInSeconds: settings.WEBHOOK_TIMEOUT_SECONDS + 60,
    },
    async handle({ deliveryId }, { db }, job) {
      const outcome = await attemptDelivery(db, deliveryId, {
        policy: webhookUrlPolicy(settings),
        timeoutMs: settings.WEBHOOK_TIMEOUT_SECONDS * 1000,
        // retryCount counts this job's runs; a redelivery is a new job, so a new round of attempts.
        lastAttempt: job.retryCount >= settings.WEBHOOK_MAX_ATTEMPTS - 1,
      });
      if (outcome.status === "retry") throw new Error(`Webhook delivery ${deliveryId}, attempt ${outcome.attempt}: ${outcome.error}`);
      return outcome;
    },
  });
}

// Queue options are fixed when the workers register them: read from the process's configuration, once.
export const deliverWebhook = deliverWebhookJob(config());

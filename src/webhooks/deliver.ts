import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { webhookAttempts, webhookDeliveries, webhookEndpoints } from "../../db/schema";
import { type Answer, postSigned } from "./post";
import type { UrlPolicy } from "./url-policy";

export interface AttemptSettings {
  policy: UrlPolicy;
  /** For the whole attempt: DNS, connection, response headers and the excerpt. */
  timeoutMs: number;
  /** The last attempt the queue allows: a failure now ends the delivery as failed. */
  lastAttempt: boolean;
}

export type AttemptOutcome =
  | { status: "delivered" | "retry" | "failed"; attempt: number | null; statusCode: number | null; error: string | null }
  /** Nothing was sent: the delivery is gone or no longer pending (a job that ran twice). */
  | { status: "skipped" };

/**
 * One attempt of a delivery: re-checks the endpoint's URL, POSTs the stored payload signed now, and records the
 * attempt and its effect on the delivery. Attempts follow the endpoint: its current URL and secret. Whether
 * to try again is the caller's (the queue's) to act on: `retry`.
 */
export async function attemptDelivery(db: Database, deliveryId: string, settings: AttemptSettings): Promise<AttemptOutcome> {
  const [target] = await db
    .select({ delivery: webhookDeliveries, endpoint: webhookEndpoints })
    .from(webhookDeliveries)
    .leftJoin(webhookEndpoints, eq(webhookEndpoints.accountId, webhookDeliveries.accountId))
    .where(eq(webhookDeliveries.id, deliveryId));
  if (target?.delivery.status !== "pending") return { status: "skipped" };
  const { delivery, endpoint } = target;
  if (!endpoint?.enabled) {
    const error = endpoint ? "The webhook endpoint was disabled before this was sent." : "The webhook endpoint was removed before this was sent.";
    await db
      .update(webhookDeliveries)
      .set({ status: "failed", lastError: error })
      .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.status, "pending")));
    return { status: "failed", attempt: null, statusCode: null, error };
  }
  const started = performance.now();
  const answer = await postSigned(
    { url: endpoint.url, deliveryId: delivery.id, payload: delivery.payload, secret: endpoint.secret },
    settings.policy,
    settings.timeoutMs,
  );
  const durationMs = Math.round(performance.now() - started);
  const ok = answer.statusCode !== null && answer.statusCode >= 200 && answer.statusCode < 300;
  const status = ok ? "delivered" : settings.lastAttempt ? "failed" : "pending";
  const attempt = await recordAttempt(db, deliveryId, endpoint.url, answer, durationMs, status);
  return { status: status === "pending" ? "retry" : status, attempt, ...answer };
}

/**
 * Logs the attempt and moves the delivery on, in one transaction; the attempt's number comes from the
 * delivery's counter under its row lock, so two runs of one job never share a number. Delivered is final.
 */
async function recordAttempt(db: Database, deliveryId: string, url: string, answer: Answer, durationMs: number, status: "delivered" | "failed" | "pending") {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(webhookDeliveries)
      .set({
        url,
        attempts: sql`${webhookDeliveries.attempts} + 1`,
        lastStatusCode: answer.statusCode,
        lastError: answer.error,
        lastAttemptAt: sql`now()`,
        status: sql`case when ${webhookDeliveries.status} = 'delivered' then ${webhookDeliveries.status} else ${status}::webhook_delivery_status end`,
        ...(status === "delivered" && { deliveredAt: sql`coalesce(${webhookDeliveries.deliveredAt}, now())` }),
      })
      .where(eq(webhookDeliveries.id, deliveryId))
      .returning({ attempts: webhookDeliveries.attempts });
    if (!row) return null;
    await tx.insert(webhookAttempts).values({ deliveryId, attempt: row.attempts, statusCode: answer.statusCode, error: answer.error, durationMs });
    return row.attempts;
  });
}

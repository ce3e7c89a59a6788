import { eq } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { webhookDeliveries, webhookEndpoints } from "../../db/schema";
import { requireOwner } from "../accounts/owners";
import { type AccountContext, withTransaction } from "../context";
import { ConflictError, NotFoundError } from "../errors";
import { randomBase62 } from "../ids";
import type { JobQueue } from "../jobs/queue";
import { notify } from "../notifications/notify";
import { type Delivery, withAttempts } from "./internal";

/**
 * Raises a test alert, which shows in the in-app list and is delivered like any alert: same queue, same
 * signature, same retries. Each test is a new alert (its own dedup key).
 */
export async function sendTestDelivery(ctx: AccountContext, jobs: JobQueue): Promise<Delivery> {
  requireOwner(ctx, "send a test webhook");
  return withTransaction(ctx.db, async (tx) => {
    const notification = await notify(tx, jobs, ctx.accountId, {
      kind: "webhook_test",
      dedupKey: `webhook_test:${randomBase62(16)}`,
      severity: "info",
      title: "Test alert",
      body: "Sent from the webhook settings: your endpoint receives every alert this way.",
      data: { test: true },
    });
    const [row] = await tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.notificationId, notification!.id));
    // No delivery: no enabled endpoint. Throwing rolls the test alert back with it.
    if (!row) throw await whyNotQueued(tx, ctx.accountId);
    return (await withAttempts(tx, [row]))[0]!;
  });
}

async function whyNotQueued(db: Executor, accountId: string): Promise<Error> {
  const [endpoint] = await db.select({ enabled: webhookEndpoints.enabled }).from(webhookEndpoints).where(eq(webhookEndpoints.accountId, accountId));
  return endpoint ? new ConflictError("The webhook endpoint is disabled: enable it to send a test.", "enabled") : new NotFoundError("Webhook endpoint");
}

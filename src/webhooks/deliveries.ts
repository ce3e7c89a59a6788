import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import type { Transaction } from "../../db/client";
import { webhookDeliveries, webhookEndpoints } from "../../db/schema";
import type { AccountContext } from "../context";
import { newId } from "../ids";
import type { JobQueue } from "../jobs/queue";
import type { Notification } from "../notifications/notify";
import { eventFor } from "./event";
import { type Delivery, withAttempts } from "./internal";
import { type ListDeliveriesInput, listDeliveriesInput } from "./schemas";

/**
 * Queues an alert's delivery to the account's enabled endpoint, in the transaction that raised the alert: the
 * row and its job commit with the alert or not at all. The payload is fixed here, byte for byte; only the
 * signature is made per attempt. Returns the delivery id, or null when there is nowhere to send.
 */
export async function queueDelivery(tx: Transaction, jobs: JobQueue, notification: Notification): Promise<string | null> {
  const [endpoint] = await tx
    .select({ url: webhookEndpoints.url })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.accountId, notification.accountId), eq(webhookEndpoints.enabled, true)));
  if (!endpoint) return null;
  const id = newId("webhookDelivery");
  await tx.insert(webhookDeliveries).values({
    id,
    accountId: notification.accountId,
    notificationId: notification.id,
    url: endpoint.url,
    payload: JSON.stringify(eventFor(id, notification)),
  });
  await jobs.send("webhooks.deliver", { deliveryId: id }, { tx });
  return id;
}

/** The delivery log, newest first, a page at a time (keyset on created_at and id, so new rows never shift a page). */
export async function listDeliveries(ctx: AccountContext, input: ListDeliveriesInput = {}): Promise<{ deliveries: Delivery[]; nextCursor: string | null }> {
  const { limit, cursor } = listDeliveriesInput.parse(input);
  const where: SQL[] = [eq(webhookDeliveries.accountId, ctx.accountId)];
  // A cursor from another account matches no row, and so ends the list.
  if (cursor !== undefined) {
    where.push(
      sql`(${webhookDeliveries.createdAt}, ${webhookDeliveries.id}) <
        (select created_at, id from webhook_deliveries where id = ${cursor} and account_id = ${ctx.accountId})`,
    );
  }
  const rows = await ctx.db
    .select()
    .from(webhookDeliveries)
    .where(and(...where))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  return { deliveries: await withAttempts(ctx.db, page), nextCursor: rows.length > limit ? page.at(-1)!.id : null };
}

import { and, eq } from "drizzle-orm";
import { webhookDeliveries, webhookEndpoints } from "../../db/schema";
import { requireOwner } from "../accounts/owners";
import { type AccountContext, withTransaction } from "../context";
import { ConflictError, NotFoundError } from "../errors";
import type { JobQueue } from "../jobs/queue";
import { type Delivery, deliveryOf, withAttempts } from "./internal";

/**
 * Sends a failed delivery again: the same payload (same event id, so a receiver that did get it can drop the
 * repeat), to the endpoint's current URL, with a fresh round of attempts numbered after the earlier ones.
 */
export async function redeliver(ctx: AccountContext, jobs: JobQueue, deliveryId: string): Promise<Delivery> {
  requireOwner(ctx, "redeliver webhooks");
  return withTransaction(ctx.db, async (tx) => {
    const delivery = await deliveryOf({ ...ctx, db: tx }, deliveryId);
    if (delivery.status !== "failed") throw new ConflictError(`Only a failed delivery can be sent again; this one is ${delivery.status}.`);
    const [endpoint] = await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.accountId, ctx.accountId));
    if (!endpoint) throw new NotFoundError("Webhook endpoint");
    if (!endpoint.enabled) throw new ConflictError("The webhook endpoint is disabled: enable it to redeliver.", "enabled");
    // Only from failed: two clicks at once queue one round, not two.
    const [row] = await tx
      .update(webhookDeliveries)
      .set({ status: "pending", url: endpoint.url })
      .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.status, "failed")))
      .returning();
    if (!row) throw new ConflictError("This delivery is already being sent again.");
    await jobs.send("webhooks.deliver", { deliveryId }, { tx });
    return (await withAttempts(tx, [row]))[0]!;
  });
}

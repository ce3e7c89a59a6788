import { and, asc, eq, inArray } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { webhookAttempts, webhookDeliveries } from "../../db/schema";
import type { AccountContext } from "../context";
import { NotFoundError } from "../errors";
import type { WebhookEvent } from "./event";

type DeliveryRow = typeof webhookDeliveries.$inferSelect;
type AttemptRow = typeof webhookAttempts.$inferSelect;

export type DeliveryAttempt = Omit<AttemptRow, "deliveryId">;

/** One delivery as the log shows it: what was sent, how it ended, and every attempt, first to last. */
export interface Delivery extends Omit<DeliveryRow, "accountId" | "attempts"> {
  type: WebhookEvent["type"];
  attempts: DeliveryAttempt[];
}

/** The account's delivery row, or NotFound (also for another account's id). */
export async function deliveryOf(ctx: AccountContext, id: string): Promise<DeliveryRow> {
  const [row] = await ctx.db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.accountId, ctx.accountId)));
  if (!row) throw new NotFoundError("Webhook delivery", id);
  return row;
}

/** The rows with their attempts, in one query for the lot. */
export async function withAttempts(db: Executor, rows: DeliveryRow[]): Promise<Delivery[]> {
  const attempts = rows.length
    ? await db
        .select()
        .from(webhookAttempts)
        .where(
          inArray(
            webhookAttempts.deliveryId,
            rows.map((r) => r.id),
          ),
        )
        .orderBy(asc(webhookAttempts.attempt))
    : [];
  return rows.map(({ accountId: _, attempts: __, ...row }) => ({
    ...row,
    type: (JSON.parse(row.payload) as WebhookEvent).type,
    attempts: attempts.filter((a) => a.deliveryId === row.id).map(({ deliveryId: _, ...attempt }) => attempt),
  }));
}

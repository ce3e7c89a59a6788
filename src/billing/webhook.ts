import { eq } from "drizzle-orm";
import type Stripe from "stripe";
import type { Database } from "../../db/client";
import { checkoutSessions, stripeEvents } from "../../db/schema";
import { InvalidInputError } from "../errors";
import type { PaymentGateway } from "./gateway";
import { postEntry } from "./ledger";

export type WebhookOutcome = "credited" | "duplicate" | "ignored" | "awaiting_payment";

const CREDITING_EVENTS = new Set(["checkout.session.completed", "checkout.session.async_payment_succeeded"]);

/**
 * Handles one webhook delivery. The signature is checked over the raw body;
 * the event id is recorded in the same transaction as the credit, so a
 * redelivery (or a hundred at once) credits nothing more, and a failure
 * credits nothing at all and lets the gateway retry.
 */
export async function handleWebhook(db: Database, gateway: PaymentGateway, rawBody: string, signature: string | null): Promise<WebhookOutcome> {
  if (!signature) throw new InvalidInputError("Missing Stripe-Signature header.", "stripe-signature");
  let event: Stripe.Event;
  try {
    event = await gateway.verifyEvent(rawBody, signature);
  } catch (error) {
    throw new InvalidInputError(`Webhook signature verification failed: ${(error as Error).message}`, "stripe-signature");
  }

  return db.transaction(async (tx) => {
    const [fresh] = await tx.insert(stripeEvents).values({ id: event.id, type: event.type }).onConflictDoNothing().returning();
    if (!fresh) return "duplicate";
    if (!CREDITING_EVENTS.has(event.type)) return "ignored";

    const session = event.data.object as Stripe.Checkout.Session;
    // `completed` fires before an async payment (e.g. SEPA) clears; `async_payment_succeeded` credits it then.
    if (session.payment_status !== "paid") return "awaiting_payment";
    const [checkout] = await tx.select().from(checkoutSessions).where(eq(checkoutSessions.id, session.id)).for("update");
    // Only sessions this platform opened credit anything: the account comes from our row, never from the event.
    if (!checkout || session.currency !== "eur" || !session.amount_total) return "ignored";

    const posted = await postEntry(tx, {
      accountId: checkout.accountId,
      kind: "topup",
      amountCents: session.amount_total,
      reference: session.id,
      description: checkout.gateway === "dev" ? "Top-up (development gateway)" : "Top-up via Stripe Checkout",
    });
    await tx.update(checkoutSessions).set({ status: "paid", completedAt: new Date() }).where(eq(checkoutSessions.id, session.id));
    return posted.created ? "credited" : "duplicate";
  });
}

import { eq, sql } from "drizzle-orm";
import type { Database, Transaction } from "../../db/client";
import { checkoutSessions, stripeEvents } from "../../db/schema";
import { InvalidInputError } from "../errors";
import { log } from "../platform/log";
import type { PaymentGateway } from "./gateway";
import { postEntry } from "./ledger";
import { malformedDetail, type PaymentReview, type PaymentReviewReason, recordPaymentReview } from "./payment-reviews";
import { type CheckoutSessionObject, parseWebhookEvent, type WebhookEvent } from "./webhook-event";

export type WebhookOutcome = "credited" | "duplicate" | "ignored" | "awaiting_payment" | "flagged";

type StoredCheckout = typeof checkoutSessions.$inferSelect;

/**
 * Handles one webhook delivery. The signature is checked over the raw body;
 * the event id is recorded in the same transaction as the credit (or the
 * review), so a redelivery (or a hundred at once) changes nothing more, and a
 * failure changes nothing at all and lets the gateway retry.
 *
 * The answers differ on purpose:
 * - a malformed event is a 400. We could not read it, most likely because the
 *   gateway's shape moved ahead of our schema: the failed delivery shows in
 *   Stripe's dashboard and Stripe retries for days, so once the schema is
 *   fixed a retry is handled normally. Its id is therefore not recorded as
 *   handled; its review is recorded once per event id.
 * - an event that disagrees with the stored checkout is a 2xx `flagged`: it
 *   was read and recorded (review and event id in one transaction), a retry
 *   would carry the same bytes to the same answer, and the operator acts on
 *   the review, never the gateway's retries.
 */
export async function handleWebhook(db: Database, gateway: PaymentGateway, rawBody: string, signature: string | null): Promise<WebhookOutcome> {
  if (!signature) throw new InvalidInputError("Missing Stripe-Signature header.", "stripe-signature");
  try {
    await gateway.verifySignature(rawBody, signature);
  } catch (error) {
    throw new InvalidInputError(`Webhook signature verification failed: ${(error as Error).message}`, "stripe-signature");
  }

  const parsed = parseWebhookEvent(rawBody);
  if (!parsed.ok) {
    const { problem, path, eventId, eventType, checkoutId } = parsed.malformed;
    const [checkout] = checkoutId ? await db.select().from(checkoutSessions).where(eq(checkoutSessions.id, checkoutId)) : [];
    const { review } = await recordPaymentReview(db, {
      reason: "malformed",
      eventId,
      eventType,
      checkoutId,
      accountId: checkout?.accountId ?? null,
      detail: malformedDetail(problem, rawBody),
    });
    warnFlagged(review);
    throw new InvalidInputError(`The event is malformed (${problem}); it was recorded for review.`, path || undefined);
  }

  const { outcome, review } = await db.transaction((tx) => applyEvent(tx, parsed.event));
  // Logged once committed, so the id points at a row that exists.
  if (review) warnFlagged(review);
  return outcome;
}

async function applyEvent(tx: Transaction, event: WebhookEvent): Promise<{ outcome: WebhookOutcome; review?: PaymentReview }> {
  const [fresh] = await tx.insert(stripeEvents).values({ id: event.id, type: event.type }).onConflictDoNothing().returning();
  if (!fresh) return { outcome: "duplicate" };
  const session = event.session;
  if (!session) return { outcome: "ignored" };
  if (session.status !== "complete" || session.payment_status !== "paid") return { outcome: "awaiting_payment" };

  // Locked: two different events for one session take turns, and the second finds it paid.
  const [checkout] = await tx.select().from(checkoutSessions).where(eq(checkoutSessions.id, session.id)).for("update");
  const flag = async (reason: PaymentReviewReason) => {
    const { review } = await recordPaymentReview(tx, {
      reason,
      eventId: event.id,
      eventType: event.type,
      checkoutId: session.id,
      accountId: checkout?.accountId ?? null,
      detail: {
        event: { amountTotal: session.amount_total, currency: session.currency, paymentStatus: session.payment_status, status: session.status },
        stored: checkout ? { amountCents: checkout.amountCents, currency: checkout.currency, status: checkout.status } : null,
      },
    });
    return { outcome: "flagged" as const, review };
  };
  if (!checkout) return flag("unknown_checkout");
  const reason = disagreement(session, checkout);
  if (reason) return flag(reason);

  // The money is the stored checkout's, for the stored account: the event only confirms it was paid.
  const posted = await postEntry(tx, {
    accountId: checkout.accountId,
    kind: "topup",
    amountCents: checkout.amountCents,
    reference: checkout.id,
    description: checkout.gateway === "dev" ? "Top-up (development gateway)" : "Top-up via Stripe Checkout",
  });
  await tx.update(checkoutSessions).set({ status: "paid", completedAt: sql`now()` }).where(eq(checkoutSessions.id, checkout.id));
  return { outcome: posted.created ? "credited" : "duplicate" };
}

/** Why a paid session must not credit this checkout, or null when it matches an open checkout exactly. */
function disagreement(session: CheckoutSessionObject, checkout: StoredCheckout): PaymentReviewReason | null {
  // Cancelled, or already paid through another event id (a redelivery of the same id stopped at stripe_events).
  if (checkout.status !== "open") return "checkout_not_open";
  // Currency first: an amount in another currency cannot be compared.
  if (session.currency?.toLowerCase() !== checkout.currency) return "currency_mismatch";
  if (session.amount_total !== checkout.amountCents) return "amount_mismatch";
  return null;
}

/** The review id, reason and ids only: never the payload, which the review keeps (bounded) for whoever looks. */
function warnFlagged(review: PaymentReview) {
  log.warn(
    { reviewId: review.id, reason: review.reason, eventId: review.eventId, checkoutId: review.checkoutId, accountId: review.accountId },
    `[webhook] payment review ${review.id}: ${review.reason} (event ${review.eventId ?? "without id"}, checkout ${review.checkoutId ?? "unknown"}); nothing credited`,
  );
}

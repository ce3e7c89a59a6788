import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import type { Executor } from "../../db/client";
import { checkoutStatus, paymentReviews } from "../../db/schema";
import { withTransaction } from "../context";
import { ConflictError, NotFoundError } from "../errors";

export type PaymentReview = typeof paymentReviews.$inferSelect;
export type PaymentReviewReason = (typeof paymentReviews.reason.enumValues)[number];

/** How much of a malformed body is kept: enough to recognise it, bounded because an event without an id cannot be deduplicated. */
export const REVIEW_BODY_BYTES = 2048;

/** `payment_reviews.detail`: the parse problem and a bounded excerpt, or the event's facts beside the stored checkout's. */
export const paymentReviewDetail = z.union([
  z.object({ problem: z.string(), body: z.string(), bodyBytes: z.number().int(), truncated: z.boolean() }),
  z.object({
    event: z.object({ amountTotal: z.number().nullable(), currency: z.string().nullable(), paymentStatus: z.string(), status: z.string().nullable() }),
    /** Null when no checkout of ours has the event's session id. */
    stored: z.object({ amountCents: z.number(), currency: z.string(), status: z.enum(checkoutStatus.enumValues) }).nullable(),
  }),
]);
export type PaymentReviewDetail = z.infer<typeof paymentReviewDetail>;

export interface NewPaymentReview {
  reason: PaymentReviewReason;
  eventId: string | null;
  eventType: string | null;
  checkoutId: string | null;
  accountId: string | null;
  detail: PaymentReviewDetail;
}

/**
 * The one writer of payment reviews, in the caller's transaction when there
 * is one. Recorded once per event id and reason: a malformed event is
 * redelivered until it is answered 2xx, and each redelivery is the same
 * bytes. An event without an id is recorded each time (its detail is bounded).
 */
export async function recordPaymentReview(db: Executor, review: NewPaymentReview): Promise<{ review: PaymentReview; created: boolean }> {
  return withTransaction(db, async (tx) => {
    if (review.eventId) {
      // No unique index on (event_id, reason): the lock makes concurrent deliveries of one event take turns.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`payment_review:${review.eventId}`}, 0))`);
      const [existing] = await tx
        .select()
        .from(paymentReviews)
        .where(and(eq(paymentReviews.eventId, review.eventId), eq(paymentReviews.reason, review.reason)));
      if (existing) return { review: existing, created: false };
    }
    const [created] = await tx.insert(paymentReviews).values(review).returning();
    return { review: created!, created: true };
  });
}

/** The detail of a malformed event: the problem and the body's first bytes, made storable (jsonb refuses NUL). */
export function malformedDetail(problem: string, rawBody: string): PaymentReviewDetail {
  // Slicing characters first keeps the work bounded; a character cut in two at the byte limit decodes as U+FFFD.
  const head = new TextEncoder().encode(rawBody.slice(0, REVIEW_BODY_BYTES)).subarray(0, REVIEW_BODY_BYTES);
  const bodyBytes = Buffer.byteLength(rawBody);
  const body = new TextDecoder().decode(head).toWellFormed().replaceAll("\0", "\uFFFD");
  return { problem, body, bodyBytes, truncated: bodyBytes > REVIEW_BODY_BYTES };
}

export interface ListedPaymentReview extends PaymentReview {
  summary: string;
}

/** Reviews newest first: the open ones, or all with `includeResolved`. */
export async function listPaymentReviews(db: Executor, options: { includeResolved?: boolean; limit?: number } = {}): Promise<ListedPaymentReview[]> {
  const rows = await db
    .select()
    .from(paymentReviews)
    .where(options.includeResolved ? undefined : isNull(paymentReviews.resolvedAt))
    .orderBy(desc(paymentReviews.receivedAt), desc(paymentReviews.id))
    .limit(options.limit ?? 100);
  return rows.map((row) => ({ ...row, summary: summarizeDetail(row.detail) }));
}

/** Marks a review as dealt with; what was done about it (a refund, a manual credit) happens through the ledger, not here. */
export async function resolvePaymentReview(db: Executor, id: number): Promise<PaymentReview> {
  const [resolved] = await db
    .update(paymentReviews)
    .set({ resolvedAt: sql`now()` })
    .where(and(eq(paymentReviews.id, id), isNull(paymentReviews.resolvedAt)))
    .returning();
  if (resolved) return resolved;
  const [existing] = await db.select().from(paymentReviews).where(eq(paymentReviews.id, id));
  if (!existing) throw new NotFoundError("Payment review", String(id));
  throw new ConflictError(`Payment review ${id} was already resolved at ${existing.resolvedAt!.toISOString()}.`);
}

/** One line for a terminal: what disagreed, or what could not be read. */
export function summarizeDetail(detail: unknown): string {
  const parsed = paymentReviewDetail.safeParse(detail);
  if (!parsed.success) return JSON.stringify(detail).slice(0, 200);
  const d = parsed.data;
  if ("problem" in d) return `${d.problem} (body ${d.bodyBytes} bytes${d.truncated ? `, first ${REVIEW_BODY_BYTES} kept` : ""})`;
  const cents = (value: number | null) => (value === null ? "no amount" : `${value} cents`);
  const event = `event ${cents(d.event.amountTotal)} ${d.event.currency ?? "no currency"} (${d.event.paymentStatus})`;
  const stored = d.stored ? `stored ${cents(d.stored.amountCents)} ${d.stored.currency} (${d.stored.status})` : "no stored checkout";
  return `${event}; ${stored}`;
}

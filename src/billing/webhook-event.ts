import { z } from "zod";
import { safeString } from "../validation";

/** Events that can credit a checkout. `completed` fires before an async payment (e.g. SEPA) clears; `async_payment_succeeded` then. */
export const CREDITING_EVENTS = new Set(["checkout.session.completed", "checkout.session.async_payment_succeeded"]);

// Bounded and NUL-free: these strings go into text and jsonb columns (PostgreSQL refuses NUL in both).
const gatewayId = safeString().min(1).max(255);
const word = safeString().max(64);

/**
 * The fields of a verified event the webhook reads, and nothing more: the
 * signature proves who sent the bytes, not that they have the shape the
 * SDK's types promise. Every Stripe event carries `data.object`.
 */
export const stripeEvent = z.object({
  id: gatewayId,
  type: word.min(1),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

/** The checkout session inside a crediting event: what is compared with the stored checkout. Stripe sends null for some. */
export const checkoutSessionObject = z.object({
  id: gatewayId,
  status: word.nullable(),
  payment_status: word,
  amount_total: z.number().int().nonnegative().nullable(),
  currency: word.nullable(),
});

export type CheckoutSessionObject = z.infer<typeof checkoutSessionObject>;

export interface WebhookEvent {
  id: string;
  type: string;
  /** Set for crediting events, null for the others (which are only acknowledged). */
  session: CheckoutSessionObject | null;
}

export interface MalformedEvent {
  /** The first problem, as `path: message` (no value from the body). */
  problem: string;
  path: string;
  /** What could be read anyway, so the review can be matched to the gateway's records. */
  eventId: string | null;
  eventType: string | null;
  checkoutId: string | null;
}

export type ParsedEvent = { ok: true; event: WebhookEvent } | { ok: false; malformed: MalformedEvent };

/** Reads a verified body; never throws. */
export function parseWebhookEvent(rawBody: string): ParsedEvent {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return malformed(undefined, [], "the body is not valid JSON");
  }
  const envelope = stripeEvent.safeParse(body);
  if (!envelope.success) return fromIssue(body, [], envelope.error);
  const { id, type, data } = envelope.data;
  if (!CREDITING_EVENTS.has(type)) return { ok: true, event: { id, type, session: null } };
  const session = checkoutSessionObject.safeParse(data.object);
  if (!session.success) return fromIssue(body, ["data", "object"], session.error);
  return { ok: true, event: { id, type, session: session.data } };
}

function fromIssue(body: unknown, prefix: PropertyKey[], error: z.ZodError): ParsedEvent {
  const issue = error.issues[0]!;
  return malformed(body, [...prefix, ...issue.path], issue.message);
}

function malformed(body: unknown, path: PropertyKey[], message: string): ParsedEvent {
  const where = path.map(String).join(".");
  const pick = (value: unknown) => (gatewayId.safeParse(value).success ? (value as string) : null);
  const event = (typeof body === "object" && body !== null ? body : {}) as { id?: unknown; type?: unknown; data?: { object?: { id?: unknown } } | null };
  return {
    ok: false,
    malformed: {
      problem: where ? `${where}: ${message}` : message,
      path: where,
      eventId: pick(event.id),
      eventType: pick(event.type),
      checkoutId: pick(event.data?.object?.id),
    },
  };
}

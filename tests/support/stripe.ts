import Stripe from "stripe";

// Only for the SDK's signing helper: no request is ever made with this key.
const stripe = new Stripe("sk_test_signing_helper_only");

/** A checkout.session.completed event for `sessionId`, as Stripe sends it. */
export function checkoutCompletedEvent(
  sessionId: string,
  amountCents: number,
  overrides: Record<string, unknown> = {},
  eventId = `evt_${crypto.randomUUID()}`,
) {
  return JSON.stringify({
    id: eventId,
    object: "event",
    type: "checkout.session.completed",
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    data: {
      object: {
        id: sessionId,
        object: "checkout.session",
        mode: "payment",
        status: "complete",
        payment_status: "paid",
        amount_total: amountCents,
        currency: "eur",
        ...overrides,
      },
    },
  });
}

/** Signs `payload` with the `stripe` SDK's own test helper (Stripe's `t=…,v1=…` scheme). */
export function sign(payload: string, secret: string, timestamp?: number): Promise<string> {
  return stripe.webhooks.generateTestHeaderStringAsync({ payload, secret, timestamp });
}

import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { checkoutSessions, ledgerEntries } from "../../db/schema";
import { createApp } from "../../server/app";
import { loadConfig } from "../../src/config";
import { freshDatabase } from "../support/db";
import { expectTrpcError } from "../support/errors";
import { newUser, testConfig, trpc } from "../support/factories";
import { checkoutCompletedEvent, sign } from "../support/stripe";

const { db } = await freshDatabase();
const app = createApp({ db, config: testConfig });
const devSecret = testConfig.DEV_GATEWAY_WEBHOOK_SECRET;

function deliver(payload: string, signature: string | null) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (signature) headers["stripe-signature"] = signature;
  return app.handle(new Request("http://localhost:3000/webhooks/stripe", { method: "POST", headers, body: payload }));
}

/** A user with an open checkout of `amountCents` at the development gateway. */
async function openCheckout(amountCents = 5000) {
  const user = await newUser(db);
  const session = await (await trpc(db, user.sessionToken)).billing.createCheckout({
    amountCents,
    successUrl: "http://localhost:3000/billing/top-up/success",
    cancelUrl: "http://localhost:3000/billing",
  });
  return { user, session };
}

async function topups(accountId: string) {
  return db.select().from(ledgerEntries).where(eq(ledgerEntries.accountId, accountId));
}

describe("crediting", () => {
  test("a signed checkout.session.completed credits once, with the session id as reference", async () => {
    const { user, session } = await openCheckout(5000);
    const payload = checkoutCompletedEvent(session.id, 5000);
    const response = await deliver(payload, await sign(payload, devSecret));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true, outcome: "credited" });
    expect(await topups(user.accountId)).toMatchObject([{ kind: "topup", amountCents: 5000, reference: session.id }]);
    const [checkout] = await db.select().from(checkoutSessions).where(eq(checkoutSessions.id, session.id));
    expect(checkout!.status).toBe("paid");
  });

  test("the same event delivered 100 times at once credits exactly once", async () => {
    const { user, session } = await openCheckout(2500);
    const payload = checkoutCompletedEvent(session.id, 2500);
    const signature = await sign(payload, devSecret);
    const responses = await Promise.all(Array.from({ length: 100 }, () => deliver(payload, signature)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const outcomes = await Promise.all(responses.map(async (r) => (await r.json()).outcome));
    expect(outcomes.filter((o) => o === "credited")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "duplicate")).toHaveLength(99);
    expect(await topups(user.accountId)).toHaveLength(1);
    expect((await (await trpc(db, user.sessionToken)).billing.balance()).balanceCents).toBe(2500);
  });

  test("different events for one session (completed, then async success) still credit once", async () => {
    const { user, session } = await openCheckout(1000);
    const completed = checkoutCompletedEvent(session.id, 1000);
    const succeeded = JSON.stringify({ ...JSON.parse(checkoutCompletedEvent(session.id, 1000)), type: "checkout.session.async_payment_succeeded" });
    await Promise.all([deliver(completed, await sign(completed, devSecret)), deliver(succeeded, await sign(succeeded, devSecret))]);
    expect(await topups(user.accountId)).toHaveLength(1);
  });

  test("an unpaid completion waits; the async success credits it", async () => {
    const { user, session } = await openCheckout(1200);
    const pending = checkoutCompletedEvent(session.id, 1200, { payment_status: "unpaid" });
    expect(await (await deliver(pending, await sign(pending, devSecret))).json()).toMatchObject({ outcome: "awaiting_payment" });
    expect(await topups(user.accountId)).toHaveLength(0);
    const paid = JSON.stringify({ ...JSON.parse(checkoutCompletedEvent(session.id, 1200)), type: "checkout.session.async_payment_succeeded" });
    expect(await (await deliver(paid, await sign(paid, devSecret))).json()).toMatchObject({ outcome: "credited" });
    expect(await topups(user.accountId)).toHaveLength(1);
  });

  test("events it does not handle, and sessions it did not open, are acknowledged and change nothing", async () => {
    const other = JSON.stringify({ id: "evt_other", object: "event", type: "customer.created", data: { object: { id: "cus_1" } } });
    const unknown = checkoutCompletedEvent("cs_never_opened_here", 999_999);
    expect(await (await deliver(other, await sign(other, devSecret))).json()).toMatchObject({ outcome: "ignored" });
    expect(await (await deliver(unknown, await sign(unknown, devSecret))).json()).toMatchObject({ outcome: "ignored" });
  });
});

describe("forgeries", () => {
  test.each([
    ["a tampered body", async (payload: string) => ({ body: payload.replace("5000", "500000"), signature: await sign(payload, devSecret) })],
    ["the wrong secret", async (payload: string) => ({ body: payload, signature: await sign(payload, "whsec_somebody_else") })],
    [
      "a timestamp outside the tolerance",
      async (payload: string) => ({ body: payload, signature: await sign(payload, devSecret, Math.floor(Date.now() / 1000) - 3600) }),
    ],
    ["no signature", async (payload: string) => ({ body: payload, signature: null })],
  ])("%s is a 400 and credits nothing", async (_, forge) => {
    const { user, session } = await openCheckout(5000);
    const { body, signature } = await forge(checkoutCompletedEvent(session.id, 5000));
    const response = await deliver(body, signature);
    expect(response.status).toBe(400);
    expect((await response.json()).error.field).toBe("stripe-signature");
    expect(await topups(user.accountId)).toHaveLength(0);
  });
});

describe("the development gateway", () => {
  test("Pay sends a signed event through the webhook route and credits the session", async () => {
    const { user, session } = await openCheckout(5000);
    expect(session.url).toBe(`http://localhost:3000/dev-checkout/${session.id}`);
    const api = await trpc(db, user.sessionToken);
    expect(await api.billing.completeDevCheckout({ id: session.id, outcome: "pay" })).toEqual({
      redirectTo: "http://localhost:3000/billing/top-up/success",
    });
    expect((await api.billing.balance()).balanceCents).toBe(5000);
    expect((await api.billing.ledger({})).entries).toMatchObject([{ kind: "topup", amountCents: 5000, reference: session.id }]);
    expect((await api.billing.checkout({ id: session.id })).status).toBe("paid");
    // Paying again is harmless.
    await api.billing.completeDevCheckout({ id: session.id, outcome: "pay" });
    expect((await api.billing.balance()).balanceCents).toBe(5000);
  });

  test("Cancel credits nothing and sends the user to the cancel URL", async () => {
    const { user, session } = await openCheckout(5000);
    const api = await trpc(db, user.sessionToken);
    expect((await api.billing.completeDevCheckout({ id: session.id, outcome: "cancel" })).redirectTo).toBe("http://localhost:3000/billing");
    expect((await api.billing.balance()).balanceCents).toBe(0);
    await expectTrpcError(api.billing.completeDevCheckout({ id: session.id, outcome: "pay" }), "CONFLICT");
  });

  test("another account's checkout answers as missing", async () => {
    const { session } = await openCheckout(5000);
    const stranger = await trpc(db, (await newUser(db)).sessionToken);
    await expectTrpcError(stranger.billing.completeDevCheckout({ id: session.id, outcome: "pay" }), "NOT_FOUND");
    await expectTrpcError(stranger.billing.checkout({ id: session.id }), "NOT_FOUND");
  });
});

describe("with Stripe keys", () => {
  const stripeConfig = loadConfig({
    PUBLIC_URL: "http://localhost:3000",
    STRIPE_SECRET_KEY: "sk_test_local",
    STRIPE_WEBHOOK_SECRET: "whsec_stripe_test_secret",
  });

  test("the development gateway is off: its signature no longer credits", async () => {
    const stripeApp = createApp({ db, config: stripeConfig });
    const { session } = await openCheckout(5000);
    const payload = checkoutCompletedEvent(session.id, 5000);
    const response = await stripeApp.handle(
      new Request("http://localhost:3000/webhooks/stripe", {
        method: "POST",
        headers: { "stripe-signature": await sign(payload, devSecret) },
        body: payload,
      }),
    );
    expect(response.status).toBe(400);
  });
});

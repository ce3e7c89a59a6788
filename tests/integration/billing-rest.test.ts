import { afterAll, describe, expect, test } from "bun:test";
import { createApp } from "../../server/app";
import { postEntry } from "../../src/billing/ledger";
import { loadConfig } from "../../src/config";
import { freshDatabase } from "../support/db";
import { newApiKey, newUser, SCHEDULER_TOKEN, testConfig } from "../support/factories";
import { checkoutCompletedEvent, sign } from "../support/stripe";

const { db } = await freshDatabase();
const app = createApp({ db, config: testConfig });
const site = "http://localhost:3000";

function call(method: string, path: string, token: string | null, body?: unknown) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  return app.handle(
    new Request(`${site}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) }),
  );
}

async function keyFor() {
  const user = await newUser(db);
  // 'full': these tests open checkouts; the scopes' own tests are in api-keys.test.ts.
  return { user, key: (await newApiKey(db, user, { scope: "full" })).secret };
}

const validCheckout = { amount_cents: 5000, currency: "eur", success_url: "https://app.example/ok", cancel_url: "https://app.example/cancel" };

describe("POST /billing/checkout", () => {
  test.each(["/billing/checkout", "/v1/billing/checkout"])("%s opens a checkout and answers {id, url}", async (path) => {
    const { key } = await keyFor();
    const response = await call("POST", path, key, validCheckout);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.id).toMatch(/^cs_dev_/);
    expect(body.url).toBe(`${site}/dev-checkout/${body.id}`);
  });

  test.each([
    [{ ...validCheckout, currency: "usd" }, "currency", "Only EUR is supported."],
    [{ ...validCheckout, amount_cents: 499 }, "amount_cents", "between 5.00 € and 10000.00 €"],
    [{ ...validCheckout, amount_cents: 1_000_001 }, "amount_cents", "between 5.00 € and 10000.00 €"],
    [{ ...validCheckout, amount_cents: 50.5 }, "amount_cents", "whole number of cents"],
    [{ ...validCheckout, amount_cents: "5000" }, "amount_cents", "whole number of cents"],
    [{ ...validCheckout, success_url: "javascript:alert(1)" }, "success_url", "http(s) URL"],
    [{ ...validCheckout, cancel_url: "ftp://x" }, "cancel_url", "http(s) URL"],
  ])("refuses %o with a 400 naming the field", async (body, field, message) => {
    const { key } = await keyFor();
    const response = await call("POST", "/billing/checkout", key, body);
    expect(response.status).toBe(400);
    const { error } = await response.json();
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
    expect(error.request_id).toBe(response.headers.get("x-request-id"));
  });

  test("malformed JSON is a 400", async () => {
    const { key } = await keyFor();
    const response = await call("POST", "/billing/checkout", key, "{oops");
    expect(response.status).toBe(400);
    expect((await response.json()).error.message).toBe("The body must be valid JSON.");
  });

  test("no key is a 401 in the error shape", async () => {
    const response = await call("POST", "/billing/checkout", null, validCheckout);
    expect(response.status).toBe(401);
    expect((await response.json()).error).toMatchObject({ code: "unauthenticated", request_id: expect.stringMatching(/^req_/) });
  });
});

describe("GET /billing/balance and /billing/ledger", () => {
  test("the balance and the grace window", async () => {
    const { user, key } = await keyFor();
    expect(await (await call("GET", "/billing/balance", key)).json()).toEqual({
      balance_cents: 0,
      currency: "eur",
      grace: { active: false, started_at: null, ends_at: null },
      burn_rate_cents_per_hour: 0,
      running_instances: 0,
      runway_seconds: null,
      low_runway: false,
    });
    await postEntry(db, { accountId: user.accountId, kind: "debit", amountCents: -250, reference: "debit:inst_a:1" });
    const { balance_cents, grace } = await (await call("GET", "/billing/balance", key)).json();
    expect(balance_cents).toBe(-250);
    expect(grace.active).toBe(true);
    expect(new Date(grace.ends_at).getTime() - new Date(grace.started_at).getTime()).toBe(24 * 3_600_000);
  });

  test("the ledger pages newest first and filters by kind and instance", async () => {
    const { user, key } = await keyFor();
    for (let i = 1; i <= 5; i++) {
      await postEntry(db, { accountId: user.accountId, kind: "debit", amountCents: -i, reference: `debit:inst_b:${i}`, instanceId: "inst_b" });
    }
    await postEntry(db, { accountId: user.accountId, kind: "topup", amountCents: 900, reference: "cs_paid" });
    const first = await (await call("GET", "/billing/ledger?limit=4", key)).json();
    expect(first.data.map((e: any) => e.reference)).toEqual(["cs_paid", "debit:inst_b:5", "debit:inst_b:4", "debit:inst_b:3"]);
    expect(first.data[0]).toMatchObject({ kind: "topup", amount_cents: 900, currency: "eur", instance_id: null });
    const second = await (await call("GET", `/billing/ledger?limit=4&cursor=${first.next_cursor}`, key)).json();
    expect(second.data.map((e: any) => e.reference)).toEqual(["debit:inst_b:2", "debit:inst_b:1"]);
    expect(second.next_cursor).toBeNull();
    const debits = await (await call("GET", "/billing/ledger?kind=debit&instance_id=inst_b", key)).json();
    expect(debits.data).toHaveLength(5);
  });

  test("bad query parameters are a 400 naming them", async () => {
    const { key } = await keyFor();
    for (const [query, field] of [
      ["limit=0", "limit"],
      ["kind=gift", "kind"],
      ["cursor=zzz", "cursor"],
    ]) {
      const response = await call("GET", `/billing/ledger?${query}`, key);
      expect(response.status).toBe(400);
      expect((await response.json()).error.field).toBe(field);
    }
  });

  test("another account's ledger is invisible, even filtered by its instance", async () => {
    const alice = await keyFor();
    const bob = await keyFor();
    await postEntry(db, { accountId: alice.user.accountId, kind: "topup", amountCents: 100, reference: "alice-only", instanceId: "inst_alice" });
    const seen = await (await call("GET", "/billing/ledger?instance_id=inst_alice", bob.key)).json();
    expect(seen.data).toEqual([]);
    expect((await (await call("GET", "/billing/balance", bob.key)).json()).balance_cents).toBe(0);
  });
});

describe("POST /billing/debit (internal)", () => {
  test("a user's API key is refused with 403, and nothing is debited", async () => {
    const { user, key } = await keyFor();
    const response = await call("POST", "/billing/debit", key, { account_id: user.accountId, amount_cents: 100, reference: "x" });
    expect(response.status).toBe(403);
    expect((await (await call("GET", "/billing/balance", key)).json()).balance_cents).toBe(0);
  });

  test("no credential is a 401", async () => {
    expect((await call("POST", "/billing/debit", null, {})).status).toBe(401);
  });

  test("the scheduler's credential debits once per reference", async () => {
    const { user, key } = await keyFor();
    const body = { account_id: user.accountId, amount_cents: 37, reference: "debit:inst_c:2026-11-24T10:00", instance_id: "inst_c" };
    const first = await (await call("POST", "/billing/debit", SCHEDULER_TOKEN, body)).json();
    const retry = await (await call("POST", "/billing/debit", SCHEDULER_TOKEN, body)).json();
    expect(first).toMatchObject({ created: true, balance_cents: -37, entry: { kind: "debit", amount_cents: -37 } });
    expect(retry).toMatchObject({ created: false, balance_cents: -37, entry: { id: first.entry.id } });
    expect((await (await call("GET", "/billing/balance", key)).json()).grace.active).toBe(true);
  });

  test("with no scheduler credential configured, the endpoint is off", async () => {
    const offApp = createApp({ db, config: loadConfig({ PUBLIC_URL: site }) });
    const response = await offApp.handle(
      new Request(`${site}/billing/debit`, { method: "POST", headers: { authorization: `Bearer ${SCHEDULER_TOKEN}` }, body: "{}" }),
    );
    expect(response.status).toBe(403);
  });
});

describe("the Stripe gateway", () => {
  // A local server that answers the part of Stripe's API the gateway uses: POST /v1/checkout/sessions.
  const requests: { path: string; form: URLSearchParams; auth: string | null }[] = [];
  const stripeApi = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const form = new URLSearchParams(await request.text());
      requests.push({ path: new URL(request.url).pathname, form, auth: request.headers.get("authorization") });
      const id = `cs_test_${requests.length}`;
      return Response.json({
        id,
        object: "checkout.session",
        url: `https://checkout.stripe.com/c/pay/${id}`,
        amount_total: Number(form.get("line_items[0][price_data][unit_amount]")),
      });
    },
  });
  afterAll(() => stripeApi.stop());

  const stripeConfig = loadConfig({
    PUBLIC_URL: site,
    STRIPE_SECRET_KEY: "sk_test_local",
    STRIPE_WEBHOOK_SECRET: "whsec_stripe_test_secret",
    STRIPE_API_URL: `http://127.0.0.1:${stripeApi.port}`,
  });
  const stripeApp = createApp({ db, config: stripeConfig });

  test("opens a real Checkout session (payment, EUR, account in metadata) and credits on Stripe's signed webhook", async () => {
    const { user, key } = await keyFor();
    const response = await stripeApp.handle(
      new Request(`${site}/billing/checkout`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify(validCheckout) }),
    );
    expect(response.status).toBe(200);
    const session = await response.json();
    expect(session.url).toStartWith("https://checkout.stripe.com/");
    const sent = requests.at(-1)!;
    expect(sent.path).toBe("/v1/checkout/sessions");
    expect(sent.auth).toBe("Bearer sk_test_local");
    expect(sent.form.get("mode")).toBe("payment");
    expect(sent.form.get("line_items[0][price_data][currency]")).toBe("eur");
    expect(sent.form.get("line_items[0][price_data][unit_amount]")).toBe("5000");
    expect(sent.form.get("metadata[account_id]")).toBe(user.accountId);

    const payload = checkoutCompletedEvent(session.id, 5000);
    const webhook = await stripeApp.handle(
      new Request(`${site}/webhooks/stripe`, {
        method: "POST",
        headers: { "stripe-signature": await sign(payload, "whsec_stripe_test_secret") },
        body: payload,
      }),
    );
    expect(await webhook.json()).toMatchObject({ outcome: "credited" });
    expect((await (await call("GET", "/billing/balance", key)).json()).balance_cents).toBe(5000);
  });
});

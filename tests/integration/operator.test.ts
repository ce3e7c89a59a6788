/**
 * The operator role and its router: refused to everyone else (an account's owner included), the platform's
 * providers, pods, queues, payment reviews and accounts for an operator named by OPERATOR_EMAILS, ledger
 * adjustments that are append-only, idempotent and attributed, and the first-user rule of a fresh install.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import type { Database } from "../../db/client";
import { auditEvents, ledgerEntries, operators } from "../../db/schema";
import { resolveCaller } from "../../src/auth/caller";
import { findBalanceDrift, postEntry } from "../../src/billing/ledger";
import { recordPaymentReview } from "../../src/billing/payment-reviews";
import { type Config, loadConfig } from "../../src/config";
import { createQueue } from "../../src/jobs/queue";
import type { Provider } from "../../src/providers/seam";
import type { Offer } from "../../src/scheduler/offers";
import { createCaller } from "../../src/trpc/router";
import { freshDatabase } from "../support/db";
import { expectTrpcError } from "../support/errors";
import { insertInstanceRow, newUser, SCHEDULER_TOKEN, servicesFor } from "../support/factories";

const OPERATOR_EMAIL = "ops@example.com";
const database = await freshDatabase();
const { db } = database;
const configWith = (env: Record<string, string>) =>
  loadConfig({ PUBLIC_URL: "http://localhost:3000", QDZ_DATA_DIR: ".data/test", BILLING_INTERNAL_TOKEN: SCHEDULER_TOKEN, ...env });
const config = configWith({ OPERATOR_EMAILS: `someone@example.com, ${OPERATOR_EMAIL.toUpperCase()}` });

// pg-boss as the api holds it (send-only), with two of the workers' queues.
const boss = createQueue(database.url, { sendOnly: true });
await boss.start();
for (const name of ["billing.tick", "instances.provision"]) await boss.createQueue(name);
afterAll(() => boss.stop({ graceful: false }));

const offer: Offer = {
  id: "fake/L4/eu/secure",
  providerId: "fake-cloud",
  gpuType: "L4",
  gpuCount: 1,
  vramGib: 24,
  region: "eu",
  tier: "secure",
  providerCostCentsPerGpuHour: 40,
  availableGpus: 3,
  latencyMs: 5,
};
/** Only what the offers cache asks of a provider: one answers, one fails. */
const providers = [
  { id: "fake-cloud", offers: async () => [offer] },
  {
    id: "broken-cloud",
    offers: async () => {
      throw new Error("the API answered 503");
    },
  },
] as unknown as Provider[];

/** A tRPC caller as the api builds it, with this file's config, providers and pg-boss. */
async function api(token: string | null, options: { db?: Database; config?: Config } = {}) {
  const target = options.db ?? db;
  const request = new Request("http://localhost:3000/trpc", { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return createCaller({
    ...servicesFor(target),
    config: options.config ?? config,
    providers,
    boss,
    requestId: "req_operator_test",
    caller: await resolveCaller(target, request),
    ip: "127.0.0.1",
    origin: null,
    allowedOrigins: ["http://localhost:3000"],
    resHeaders: new Headers(),
  });
}

const adjustmentRef = () => `adj:${crypto.randomUUID()}`;

describe("who is an operator", () => {
  test("an account's owner is refused every operator procedure, and is told so", async () => {
    const owner = await newUser(db);
    const caller = await api(owner.sessionToken);
    expect((await caller.auth.me())?.isOperator).toBe(false);
    const calls: [string, () => Promise<unknown>][] = [
      ["providers", () => caller.operator.providers()],
      ["pods", () => caller.operator.pods()],
      ["queues", () => caller.operator.queues()],
      ["paymentReviews", () => caller.operator.paymentReviews()],
      ["resolvePaymentReview", () => caller.operator.resolvePaymentReview({ id: 1 })],
      ["accounts", () => caller.operator.accounts({})],
      ["adjust", () => caller.operator.adjust({ accountId: owner.accountId, amountCents: 10_000, reason: "free money", reference: adjustmentRef() })],
    ];
    for (const [name, call] of calls) {
      const error = await expectTrpcError(call(), "FORBIDDEN");
      expect(`${name}: ${error.message}`).toBe(`${name}: This needs a platform operator.`);
    }
    // Nothing moved on the way.
    expect(await db.select().from(ledgerEntries).where(eq(ledgerEntries.accountId, owner.accountId))).toEqual([]);
  });

  test("signed out, the procedures ask to sign in", async () => {
    await expectTrpcError((await api(null)).operator.accounts({}), "UNAUTHORIZED");
  });

  test("an operator named by OPERATOR_EMAILS (any case) is one; a sign-up with it set grants no one", async () => {
    const operator = await newUser(db, OPERATOR_EMAIL);
    expect((await (await api(operator.sessionToken)).auth.me())?.isOperator).toBe(true);
    const signedUp = await (await api(null)).auth.signup({ email: "early-bird@example.com", password: "a long enough password", client: "cli" });
    expect((await (await api(signedUp.sessionToken)).auth.me())?.isOperator).toBe(false);
    expect(await db.select().from(operators)).toEqual([]);
  });
});

describe("what an operator sees", async () => {
  const operator = await newUser(db, "ops-viewer@example.com");
  const viewerConfig = configWith({ OPERATOR_EMAILS: "ops-viewer@example.com" });
  const caller = () => api(operator.sessionToken, { config: viewerConfig });

  test("providers' health with their offers, and pods by provider and state", async () => {
    const ops = await caller();
    // The first call starts the offers cache; its health follows once each provider has answered or failed.
    let health = await ops.operator.providers();
    const deadline = Date.now() + 5000;
    while (health.some((p) => p.state === "unknown") && Date.now() < deadline) {
      await Bun.sleep(20);
      health = await ops.operator.providers();
    }
    expect(health).toEqual([
      { providerId: "fake-cloud", state: "healthy", answeredAt: expect.any(String), offers: 1, reason: null },
      { providerId: "broken-cloud", state: "degraded", answeredAt: null, offers: 0, reason: expect.stringContaining("503") },
    ]);

    const customer = await newUser(db);
    await insertInstanceRow(db, { accountId: customer.accountId, state: "running", providerId: "fake-cloud" });
    await insertInstanceRow(db, { accountId: customer.accountId, state: "running", providerId: "fake-cloud" });
    await insertInstanceRow(db, { accountId: customer.accountId, state: "stopping", providerId: "fake-cloud" });
    await insertInstanceRow(db, { accountId: customer.accountId, state: "stopped", providerId: "fake-cloud" });
    expect(await ops.operator.pods()).toEqual([{ providerId: "fake-cloud", total: 3, states: { running: 2, stopping: 1 } }]);
  });

  test("queues with their depth and failed jobs", async () => {
    const queues = await (await caller()).operator.queues();
    expect(queues.map((queue) => queue.name)).toEqual(["billing.tick", "instances.provision"]);
    for (const queue of queues) expect(queue).toEqual({ name: queue.name, depth: 0, deferred: 0, active: 0, failed: 0 });
  });

  test("open payment reviews, which it can resolve", async () => {
    const { review } = await recordPaymentReview(db, {
      reason: "unknown_checkout",
      eventId: "evt_operator_1",
      eventType: "checkout.session.completed",
      checkoutId: "cs_missing",
      accountId: null,
      detail: { event: { amountTotal: 2500, currency: "eur", paymentStatus: "paid", status: "complete" }, stored: null },
    });
    const ops = await caller();
    const open = await ops.operator.paymentReviews();
    expect(open.map((r) => [r.id, r.summary])).toEqual([[review.id, "event 2500 cents eur (paid); no stored checkout"]]);
    const resolved = await ops.operator.resolvePaymentReview({ id: review.id });
    expect(resolved.resolvedAt).toBeInstanceOf(Date);
    expect(await ops.operator.paymentReviews()).toEqual([]);
    await expectTrpcError(ops.operator.resolvePaymentReview({ id: review.id }), "CONFLICT");
  });

  test("every account with its balance and grace state, in pages that neither skip nor repeat", async () => {
    const rich = await newUser(db);
    await postEntry(db, { accountId: rich.accountId, kind: "topup", amountCents: 5000, reference: "chk_rich" });
    const broke = await newUser(db);
    await postEntry(db, { accountId: broke.accountId, kind: "debit", amountCents: -250, reference: "tick_broke" });
    const ops = await caller();
    const seen: Awaited<ReturnType<typeof ops.operator.accounts>>["accounts"] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof ops.operator.accounts>> = await ops.operator.accounts({ limit: 2, cursor });
      expect(page.accounts.length).toBeLessThanOrEqual(2);
      seen.push(...page.accounts);
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(seen.map((a) => a.id)).size).toBe(seen.length);
    const byId = new Map(seen.map((a) => [a.id, a]));
    expect(byId.get(rich.accountId)).toMatchObject({ ownerEmail: rich.email, balanceCents: 5000, grace: { active: false, startedAt: null } });
    const inGrace = byId.get(broke.accountId)!;
    expect(inGrace).toMatchObject({ ownerEmail: broke.email, balanceCents: -250, grace: { active: true } });
    expect(inGrace.grace.endsAt!.getTime() - inGrace.grace.startedAt!.getTime()).toBe(viewerConfig.GRACE_WINDOW_HOURS * 3_600_000);
    expect(byId.get(operator.accountId)).toMatchObject({ balanceCents: 0, grace: { active: false } });
  });
});

describe("posting an adjustment", async () => {
  const operator = await newUser(db, "ops-adjuster@example.com");
  const adjusterConfig = configWith({ OPERATOR_EMAILS: "ops-adjuster@example.com" });
  const caller = () => api(operator.sessionToken, { config: adjusterConfig });

  test("posts one ledger entry, moves the balance by it, names the operator, and writes one audit row", async () => {
    const customer = await newUser(db);
    await postEntry(db, { accountId: customer.accountId, kind: "topup", amountCents: 1000, reference: "chk_customer" });
    const ops = await caller();
    const auditBefore = await db.select().from(auditEvents).where(eq(auditEvents.accountId, customer.accountId));
    const reference = adjustmentRef();
    const posted = await ops.operator.adjust({ accountId: customer.accountId, amountCents: -1500, reason: " Duplicate top-up refunded by card ", reference });
    expect(posted).toMatchObject({ created: true, balanceCents: -500 });

    const entries = await db
      .select()
      .from(ledgerEntries)
      .where(and(eq(ledgerEntries.accountId, customer.accountId), eq(ledgerEntries.kind, "adjustment")));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      amountCents: -1500,
      reference,
      description: "Adjustment by ops-adjuster@example.com: Duplicate top-up refunded by card",
    });
    expect(await findBalanceDrift(db)).toEqual([]);
    const account = (await ops.operator.accounts({ limit: 100 })).accounts.find((a) => a.id === customer.accountId)!;
    expect(account).toMatchObject({ balanceCents: -500, grace: { active: true } });

    const audit = (await db.select().from(auditEvents).where(eq(auditEvents.accountId, customer.accountId))).slice(auditBefore.length);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      kind: "billing.adjustment_posted",
      actorKind: "user",
      actorId: operator.userId,
      actorLabel: "ops-adjuster@example.com",
      requestId: "req_operator_test",
      subjectId: entries[0]!.id,
      changes: { after: { amountCents: -1500, balanceCents: -500, reference } },
    });
  });

  test("is idempotent by its reference: a retry changes nothing; the reference with another amount is refused", async () => {
    const customer = await newUser(db);
    const ops = await caller();
    const input = { accountId: customer.accountId, amountCents: 2500, reason: "Goodwill credit after an outage", reference: adjustmentRef() };
    const first = await ops.operator.adjust(input);
    const again = await ops.operator.adjust(input);
    expect(again).toMatchObject({ created: false, balanceCents: 2500, entry: { id: first.entry.id } });
    await expectTrpcError(ops.operator.adjust({ ...input, amountCents: 9900 }), "CONFLICT");
    expect(await db.select().from(ledgerEntries).where(eq(ledgerEntries.accountId, customer.accountId))).toHaveLength(1);
    const audit = await db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.accountId, customer.accountId), eq(auditEvents.kind, "billing.adjustment_posted")));
    expect(audit).toHaveLength(1);
    expect(await findBalanceDrift(db)).toEqual([]);
  });

  test("needs a reason, a non-zero whole amount, an adj:<uuid> reference and an existing account", async () => {
    const customer = await newUser(db);
    const ops = await caller();
    const valid = { accountId: customer.accountId, amountCents: 100, reason: "Credit", reference: adjustmentRef() };
    const refused = [
      { ...valid, reason: "" },
      { ...valid, reason: "   " },
      { ...valid, reason: "x".repeat(501) },
      { ...valid, amountCents: 0 },
      { ...valid, amountCents: 1.5 },
      { ...valid, reference: "whatever" },
    ];
    for (const input of refused) await expectTrpcError(ops.operator.adjust(input), "BAD_REQUEST");
    const reasonError = await expectTrpcError(ops.operator.adjust({ ...valid, reason: "" }), "BAD_REQUEST");
    expect(reasonError.message).toContain("say why this adjustment is made");
    await expectTrpcError(ops.operator.adjust({ ...valid, accountId: "acct_missing" }), "NOT_FOUND");
    expect(await db.select().from(ledgerEntries).where(eq(ledgerEntries.accountId, customer.accountId))).toEqual([]);
    // 500 characters is allowed.
    expect((await ops.operator.adjust({ ...valid, reason: "x".repeat(500) })).created).toBe(true);
  });
});

describe("the first user of a fresh install", () => {
  const unset = configWith({});

  test("is the operator when OPERATOR_EMAILS is unset; later sign-ups are not", async () => {
    const fresh = await freshDatabase();
    const anonymous = await api(null, { db: fresh.db, config: unset });
    const first = await anonymous.auth.signup({ email: "founder@example.com", password: "a long enough password", client: "cli" });
    const second = await anonymous.auth.signup({ email: "customer@example.com", password: "a long enough password", client: "cli" });
    const founder = await api(first.sessionToken, { db: fresh.db, config: unset });
    expect((await founder.auth.me())?.isOperator).toBe(true);
    expect((await founder.operator.accounts({})).accounts.map((a) => a.ownerEmail).sort()).toEqual(["customer@example.com", "founder@example.com"]);
    const customer = await api(second.sessionToken, { db: fresh.db, config: unset });
    expect((await customer.auth.me())?.isOperator).toBe(false);
    await expectTrpcError(customer.operator.accounts({}), "FORBIDDEN");
    expect(await fresh.db.select({ userId: operators.userId, grantedBy: operators.grantedBy }).from(operators)).toEqual([
      { userId: first.userId, grantedBy: "first_user" },
    ]);
  });

  test("is exactly one person when the first sign-ups arrive together", async () => {
    const fresh = await freshDatabase();
    const anonymous = await api(null, { db: fresh.db, config: unset });
    const emails = ["a@example.com", "b@example.com", "c@example.com", "d@example.com"];
    const signedUp = await Promise.all(emails.map((email) => anonymous.auth.signup({ email, password: "a long enough password", client: "cli" })));
    const granted = await fresh.db.select().from(operators);
    expect(granted).toHaveLength(1);
    expect(signedUp.map((user) => user.userId)).toContain(granted[0]!.userId);
  });

  test("a database that already has users grants no one", async () => {
    const fresh = await freshDatabase();
    await newUser(fresh.db); // an existing install's user, signed up before the rule (no grant)
    const later = await (await api(null, { db: fresh.db, config: unset })).auth.signup({
      email: "newcomer@example.com",
      password: "a long enough password",
      client: "cli",
    });
    expect((await (await api(later.sessionToken, { db: fresh.db, config: unset })).auth.me())?.isOperator).toBe(false);
    expect(await fresh.db.select().from(operators)).toEqual([]);
  });
});

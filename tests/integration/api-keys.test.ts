import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { apiKeys } from "../../db/schema";
import { createApp } from "../../server/app";
import { KeyUsageRecorder } from "../../src/api-keys/authenticate";
import type { ApiKeyScope } from "../../src/auth/scopes";
import { sha256Hex } from "../../src/auth/secrets";
import { freshDatabase } from "../support/db";
import { expectTrpcError } from "../support/errors";
import { newUser, testConfig, trpc } from "../support/factories";

const { db } = await freshDatabase();

describe("API keys", () => {
  test("the secret is returned once; only its SHA-256 and a short prefix are stored", async () => {
    const user = await newUser(db);
    const api = await trpc(db, user.sessionToken);
    const { key, secret } = await api.apiKeys.create({ name: "laptop" });
    expect(secret).toMatch(/^qdz_[0-9A-Za-z]{43}$/);
    expect(key.prefix).toBe(secret.slice(0, 12));

    const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, key.id));
    expect(row!.secretHash).toBe(sha256Hex(secret));
    expect(JSON.stringify(row)).not.toContain(secret.slice(12));

    const listed = await api.apiKeys.list();
    expect(listed).toEqual([
      { id: key.id, name: "laptop", prefix: key.prefix, scope: "inference", createdAt: key.createdAt, lastUsedAt: null, requestCount: 0, revokedAt: null },
    ]);
    expect(JSON.stringify(listed)).not.toContain(secret);
  });

  test("a key authenticates as its account; a revoked key never again", async () => {
    const user = await newUser(db);
    const { key, secret } = await (await trpc(db, user.sessionToken)).apiKeys.create({ name: "ci" });
    expect(await (await trpc(db, secret)).auth.me()).toMatchObject({ kind: "apiKey", accountId: user.accountId, role: "member" });

    const revoked = await (await trpc(db, user.sessionToken)).apiKeys.revoke({ id: key.id });
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    expect((await trpc(db, secret).catch((e) => e)).message).toBe("This API key is not valid or was revoked.");
    await expectTrpcError((await trpc(db, user.sessionToken)).apiKeys.revoke({ id: key.id }), "NOT_FOUND");
  });

  test("a key acts with member rights: owner and person-only actions are refused", async () => {
    const user = await newUser(db);
    // The widest scope: even it stays within a member's rights.
    const { secret } = await (await trpc(db, user.sessionToken)).apiKeys.create({ name: "script", scope: "full" });
    const asKey = await trpc(db, secret);
    await expectTrpcError(asKey.account.createInvite({ role: "member" }), "FORBIDDEN");
    await expectTrpcError(asKey.auth.logout(), "FORBIDDEN");
    expect((await asKey.apiKeys.list()).length).toBe(1);
  });

  test("a name is required", async () => {
    const user = await newUser(db);
    const error = await expectTrpcError((await trpc(db, user.sessionToken)).apiKeys.create({ name: "  " }), "BAD_REQUEST");
    expect(error.message).toBe("Give the key a name, such as where it is used.");
  });
});

const app = createApp({ db, config: testConfig });
/** An HTTP call to the api with `key` as the Bearer credential: tRPC over the wire, billing REST or /v1. */
function http(path: string, key: string, init: { method?: string; body?: unknown } = {}) {
  const body = init.body === undefined ? undefined : JSON.stringify(init.body);
  return app.handle(
    new Request(`http://localhost:3000${path}`, {
      method: init.method ?? "GET",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body,
    }),
  );
}
const checkout = { amount_cents: 5000, currency: "eur", success_url: "https://app.example/ok", cancel_url: "https://app.example/cancel" };

/** A new account's owner, and a key they made with `scope` (left out when undefined). */
async function keyWith(scope: ApiKeyScope | undefined) {
  const user = await newUser(db);
  const asUser = await trpc(db, user.sessionToken);
  const { key, secret } = await asUser.apiKeys.create(scope ? { name: `${scope} key`, scope } : { name: "default key" });
  return { user, asUser, key, secret, asKey: await trpc(db, secret) };
}

async function expectRestRefusal(response: Response, message: string) {
  expect(response.status).toBe(403);
  expect((await response.json()).error).toMatchObject({ code: "forbidden", message });
}

describe("scopes", () => {
  test("a key made without a scope can run inference only; the list shows its scope", async () => {
    const { key, asUser } = await keyWith(undefined);
    expect(key.scope).toBe("inference");
    expect((await asUser.apiKeys.list()).map((k) => k.scope)).toEqual(["inference"]);
  });

  test("inference: /v1 works; queries and billing REST are refused naming 'read', writes naming 'full'", async () => {
    const { secret, asKey } = await keyWith("inference");
    expect((await http("/v1/models", secret)).status).toBe(200);
    // auth.me is public: any key may ask who it is.
    expect(await asKey.auth.me()).toMatchObject({ kind: "apiKey" });

    const query = await expectTrpcError(asKey.apiKeys.list(), "FORBIDDEN");
    expect(query.message).toBe("This API key has scope 'inference'; apiKeys.list needs 'read' or 'full'.");
    expect((await expectTrpcError(asKey.billing.balance(), "FORBIDDEN")).message).toContain("billing.balance needs 'read' or 'full'");
    expect((await expectTrpcError(asKey.firewalls.create({ name: "fw" }), "FORBIDDEN")).message).toContain("firewalls.create needs 'full'.");
    expect((await http("/trpc/account.get", secret)).status).toBe(403);

    await expectRestRefusal(await http("/billing/balance", secret), "This API key has scope 'inference'; GET /billing/balance needs 'read' or 'full'.");
    await expectRestRefusal(await http("/billing/ledger", secret), "This API key has scope 'inference'; GET /billing/ledger needs 'read' or 'full'.");
    await expectRestRefusal(
      await http("/billing/checkout", secret, { method: "POST", body: checkout }),
      "This API key has scope 'inference'; POST /billing/checkout needs 'full'.",
    );
  });

  test("read: queries, billing GETs and /v1 work; mutations and checkout are refused naming 'full'", async () => {
    const { user, key, secret, asKey } = await keyWith("read");
    expect((await asKey.account.get()).id).toBe(user.accountId);
    expect((await asKey.apiKeys.list()).map((k) => k.id)).toEqual([key.id]);
    expect(await asKey.instances.list()).toEqual([]);
    expect((await http("/trpc/account.get", secret)).status).toBe(200);
    expect((await http("/billing/balance", secret)).status).toBe(200);
    expect((await http("/billing/ledger", secret)).status).toBe(200);
    expect((await http("/v1/models", secret)).status).toBe(200);

    const mutation = await expectTrpcError(asKey.firewalls.create({ name: "fw" }), "FORBIDDEN");
    expect(mutation.message).toBe("This API key has scope 'read'; firewalls.create needs 'full'.");
    expect(await asKey.firewalls.list()).toEqual([]);
    await expectRestRefusal(
      await http("/billing/checkout", secret, { method: "POST", body: checkout }),
      "This API key has scope 'read'; POST /billing/checkout needs 'full'.",
    );
    await expectRestRefusal(
      await http("/v1/billing/checkout", secret, { method: "POST", body: checkout }),
      "This API key has scope 'read'; POST /v1/billing/checkout needs 'full'.",
    );
  });

  test("full: what a member may do, but never keys or members", async () => {
    const { user, asUser, key, secret, asKey } = await keyWith("full");
    expect((await asKey.firewalls.create({ name: "fw" })).name).toBe("fw");
    expect((await http("/billing/checkout", secret, { method: "POST", body: checkout })).status).toBe(200);

    const person = "This needs a signed-in person, not an API key.";
    expect((await expectTrpcError(asKey.apiKeys.create({ name: "child", scope: "full" }), "FORBIDDEN")).message).toBe(person);
    expect((await expectTrpcError(asKey.apiKeys.revoke({ id: key.id }), "FORBIDDEN")).message).toBe(person);
    expect((await expectTrpcError(asKey.account.removeMember({ userId: user.userId }), "FORBIDDEN")).message).toBe(person);
    expect((await expectTrpcError(asKey.account.setRole({ userId: user.userId, role: "member" }), "FORBIDDEN")).message).toBe(person);
    expect((await expectTrpcError(asKey.account.invites(), "FORBIDDEN")).message).toBe(person);
    const created = await http("/trpc/apiKeys.create", secret, { method: "POST", body: { name: "child" } });
    expect(created.status).toBe(403);
    // Nothing was made or revoked: the account still has exactly the one active key.
    expect((await asUser.apiKeys.list()).map((k) => [k.id, k.revokedAt])).toEqual([[key.id, null]]);
  });

  test("a scope outside inference, read and full is a 400 naming the field", async () => {
    const user = await newUser(db);
    const api = await trpc(db, user.sessionToken);
    const error = await expectTrpcError(api.apiKeys.create({ name: "x", scope: "admin" as ApiKeyScope }), "BAD_REQUEST");
    expect(error.message).toBe("Choose one of 'inference', 'read', 'full'.");
    expect(await api.apiKeys.list()).toEqual([]);
  });

  test("a name with a NUL byte is a 400 naming the field, not a database error", async () => {
    const user = await newUser(db);
    const error = await expectTrpcError((await trpc(db, user.sessionToken)).apiKeys.create({ name: "a\u0000b" }), "BAD_REQUEST");
    expect(error.message).toBe("Name must not contain NUL characters or unpaired surrogates.");
  });
});

describe("last used time and request count", () => {
  test("requests do not write them; the recorder flushes the latest time and the count in one batch", async () => {
    const user = await newUser(db);
    // 'read', so the key may call the apiKeys.list query below.
    const { key, secret } = await (await trpc(db, user.sessionToken)).apiKeys.create({ name: "busy", scope: "read" });
    const keyUsage = new KeyUsageRecorder(db);
    const app = createApp({ db, config: testConfig, keyUsage });
    for (let i = 0; i < 5; i++) {
      const response = await app.handle(new Request("http://localhost:3000/trpc/apiKeys.list", { headers: { authorization: `Bearer ${secret}` } }));
      expect(response.status).toBe(200);
    }
    const stored = async () => (await db.select().from(apiKeys).where(eq(apiKeys.id, key.id)))[0]!;
    const lastUsed = async () => (await stored()).lastUsedAt;
    expect(await stored()).toMatchObject({ lastUsedAt: null, requestCount: 0 });
    expect(await keyUsage.flush()).toBe(1);
    const flushed = await lastUsed();
    expect(flushed!.getTime()).toBeGreaterThan(Date.now() - 10_000);
    expect((await stored()).requestCount).toBe(5);

    // An older time flushed late (another api replica) never moves it backwards; its request still counts.
    keyUsage.record(key.id, new Date(Date.now() - 3_600_000));
    await keyUsage.flush();
    expect(await stored()).toMatchObject({ lastUsedAt: flushed, requestCount: 6 });
  });

  test("no request is lost to a flush in flight or to a failed one", async () => {
    const user = await newUser(db);
    const { key } = await (await trpc(db, user.sessionToken)).apiKeys.create({ name: "counted" });
    let failNext = true;
    // The database refuses the first flush (unreachable), then works.
    const flaky = {
      execute: (query: Parameters<typeof db.execute>[0]) =>
        failNext ? ((failNext = false), Promise.reject(new Error("connection refused"))) : db.execute(query),
    };
    const keyUsage = new KeyUsageRecorder(flaky as unknown as typeof db);
    for (let i = 0; i < 3; i++) keyUsage.record(key.id);
    await expect(keyUsage.flush()).rejects.toThrow("connection refused");
    // Requests recorded while a flush is writing land in the next batch.
    for (let i = 0; i < 4; i++) keyUsage.record(key.id);
    const inFlight = keyUsage.flush();
    for (let i = 0; i < 2; i++) keyUsage.record(key.id);
    await inFlight;
    await keyUsage.flush();
    expect((await db.select().from(apiKeys).where(eq(apiKeys.id, key.id)))[0]!.requestCount).toBe(9);
  });
});

import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { apiKeys } from "../../db/schema";
import { KeyUsageRecorder } from "../../src/api-keys/authenticate";
import { sha256Hex } from "../../src/auth/secrets";
import { createApp } from "../../server/app";
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
    expect(listed).toEqual([{ id: key.id, name: "laptop", prefix: key.prefix, createdAt: key.createdAt, lastUsedAt: null, requestCount: 0, revokedAt: null }]);
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
    const { secret } = await (await trpc(db, user.sessionToken)).apiKeys.create({ name: "script" });
    const asKey = await trpc(db, secret);
    await expectTrpcError(asKey.account.createInvite({ role: "member" }), "FORBIDDEN");
    await expectTrpcError(asKey.auth.logout(), "FORBIDDEN");
    expect((await asKey.apiKeys.list()).length).toBe(1);
  });

  test("a name is required", async () => {
    const user = await newUser(db);
    const error = await expectTrpcError((await trpc(db, user.sessionToken)).apiKeys.create({ name: "  " }), "BAD_REQUEST");
    expect(error.message).toStartWith("name:");
  });
});

describe("last used time and request count", () => {
  test("requests do not write them; the recorder flushes the latest time and the count in one batch", async () => {
    const user = await newUser(db);
    const { key, secret } = await (await trpc(db, user.sessionToken)).apiKeys.create({ name: "busy" });
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
    const flaky = { execute: (query: Parameters<typeof db.execute>[0]) => (failNext ? ((failNext = false), Promise.reject(new Error("connection refused"))) : db.execute(query)) };
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

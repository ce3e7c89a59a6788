import { describe, expect, test } from "bun:test";
import { count, eq } from "drizzle-orm";
import { accounts, memberships, users } from "../../db/schema";
import { freshDatabase } from "../support/db";
import { expectTrpcError } from "../support/errors";
import { newUser, trpc } from "../support/factories";

const { db } = await freshDatabase();

describe("sign up", () => {
  test("creates the user, their own account, and makes them its owner", async () => {
    const anonymous = await trpc(db);
    const result = await anonymous.auth.signup({ email: "  Ada@Example.com ", password: "correct horse battery", client: "cli" });
    expect(result.email).toBe("ada@example.com");
    expect(result.sessionToken).toMatch(/^qdzs_[0-9A-Za-z]{43}$/);

    const me = await (await trpc(db, result.sessionToken!)).auth.me();
    expect(me).toMatchObject({ kind: "user", email: "ada@example.com", role: "owner", accountId: result.accountId });
    expect(me!.accounts).toEqual([{ id: result.accountId, name: "ada's account", role: "owner" }]);
  });

  test("stores an argon2id hash, never the password", async () => {
    const [user] = await db.select().from(users).where(eq(users.email, "ada@example.com"));
    expect(user!.passwordHash).toStartWith("$argon2id$");
    expect(user!.passwordHash).not.toContain("correct horse");
  });

  test("a browser gets an HTTP-only, SameSite=Lax session cookie and no token", async () => {
    const resHeaders = new Headers();
    const result = await (await trpc(db, undefined, { resHeaders })).auth.signup({ email: "browser@example.com", password: "0123456789ab" });
    expect(result.sessionToken).toBeNull();
    const cookie = resHeaders.get("set-cookie")!;
    expect(cookie).toMatch(/^qdz_session=qdzs_[0-9A-Za-z]{43};/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Lax");
  });

  test("the same email in any case is a conflict on the email field, and nothing is half-written", async () => {
    const before = await rowCounts();
    const error = await expectTrpcError((await trpc(db)).auth.signup({ email: "ADA@example.com", password: "another password" }), "CONFLICT");
    expect(error.message).toContain("already exists");
    expect((error.cause as any).field).toBe("email");
    expect(await rowCounts()).toEqual(before);
  });

  test.each([
    [{ email: "not-an-email", password: "0123456789" }, "email"],
    [{ email: "short@example.com", password: "123" }, "password"],
  ])("bad input is refused naming the field (%o)", async (input, field) => {
    const error = await expectTrpcError((await trpc(db)).auth.signup(input), "BAD_REQUEST");
    expect(error.message).toStartWith(`${field}:`);
  });
});

describe("sign in", () => {
  test("the right password gives a working session", async () => {
    const user = await newUser(db);
    const { sessionToken } = await (await trpc(db)).auth.login({ email: user.email, password: user.password, client: "cli" });
    expect((await (await trpc(db, sessionToken!)).auth.me())?.userId).toBe(user.userId);
  });

  test("a wrong password and an unknown email get the same answer", async () => {
    const user = await newUser(db);
    const wrongPassword = await expectTrpcError(
      (await trpc(db, undefined, { ip: "10.0.0.1" })).auth.login({ email: user.email, password: "wrong password" }),
      "UNAUTHORIZED",
    );
    const unknownEmail = await expectTrpcError(
      (await trpc(db, undefined, { ip: "10.0.0.2" })).auth.login({ email: "nobody@example.com", password: "wrong password" }),
      "UNAUTHORIZED",
    );
    expect(wrongPassword.message).toBe("Email or password is incorrect.");
    expect(unknownEmail.message).toBe(wrongPassword.message);
  });

  test("repeated failures for one email are refused for a while, even with the right password", async () => {
    const user = await newUser(db);
    const anonymous = await trpc(db, undefined, { ip: "10.0.0.3" });
    for (let attempt = 0; attempt < 5; attempt++) {
      await expectTrpcError(anonymous.auth.login({ email: user.email, password: "guess" }), "UNAUTHORIZED");
    }
    const limited = await expectTrpcError(anonymous.auth.login({ email: user.email, password: user.password }), "TOO_MANY_REQUESTS");
    expect(limited.message).toContain("Too many failed sign-ins");
    expect((limited.cause as any).retryAfterSeconds).toBeGreaterThan(0);
  });

  test("one IP guessing across many emails is limited too", async () => {
    const anonymous = await trpc(db, undefined, { ip: "10.0.0.4" });
    for (let attempt = 0; attempt < 20; attempt++) {
      await expectTrpcError(anonymous.auth.login({ email: `guess${attempt}@example.com`, password: "guess" }), "UNAUTHORIZED");
    }
    await expectTrpcError(anonymous.auth.login({ email: "another@example.com", password: "guess" }), "TOO_MANY_REQUESTS");
  });

  test("a success clears the email's failures", async () => {
    const user = await newUser(db);
    const anonymous = await trpc(db, undefined, { ip: "10.0.0.5" });
    for (let attempt = 0; attempt < 4; attempt++) {
      await expectTrpcError(anonymous.auth.login({ email: user.email, password: "guess" }), "UNAUTHORIZED");
    }
    await anonymous.auth.login({ email: user.email, password: user.password });
    for (let attempt = 0; attempt < 4; attempt++) {
      await expectTrpcError(anonymous.auth.login({ email: user.email, password: "guess" }), "UNAUTHORIZED");
    }
    await anonymous.auth.login({ email: user.email, password: user.password });
  });
});

describe("sign out", () => {
  test("ends the session: its token no longer authenticates", async () => {
    const user = await newUser(db);
    const resHeaders = new Headers();
    await (await trpc(db, user.sessionToken, { resHeaders })).auth.logout();
    expect(resHeaders.get("set-cookie")).toContain("Max-Age=0");
    const error = await trpc(db, user.sessionToken).catch((e) => e);
    expect(error.message).toBe("This session has ended. Sign in again.");
  });

  test("a signed-out visitor is nobody, and account procedures need a caller", async () => {
    const anonymous = await trpc(db);
    expect(await anonymous.auth.me()).toBeNull();
    await expectTrpcError(anonymous.apiKeys.list(), "UNAUTHORIZED");
  });
});

async function rowCounts() {
  const [u] = await db.select({ n: count() }).from(users);
  const [a] = await db.select({ n: count() }).from(accounts);
  const [m] = await db.select({ n: count() }).from(memberships);
  return [u!.n, a!.n, m!.n];
}

import { afterAll, describe, expect, test } from "bun:test";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import { count, eq, sql } from "drizzle-orm";
import { accounts, loginFailures, memberships, signupAttempts, users } from "../../db/schema";
import { createApp } from "../../server/app";
import { loadConfig } from "../../src/config";
import { randomBase62 } from "../../src/ids";
import type { AppRouter } from "../../src/trpc/router";
import { transformer } from "../../src/trpc/wire";
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
    [{ email: "not-an-email", password: "0123456789" }, "Email must be a valid email address."],
    [{ email: "short@example.com", password: "123" }, "Password must be at least 10 characters."],
  ])("bad input is refused with a sentence naming the field (%o)", async (input, message) => {
    const error = await expectTrpcError((await trpc(db)).auth.signup(input), "BAD_REQUEST");
    expect(error.message).toBe(message);
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

/*
 * The limits against a real api over HTTP: the address comes from the socket (127.0.0.1 here) or,
 * through the app that lists 127.0.0.1 as its proxy, from X-Forwarded-For. Each test uses its own
 * forwarded addresses, so their windows do not mix.
 */
const LOGIN_MAX_FAILURES = 5;
const SIGNUP_MAX_PER_IP = 3;
const direct = serve({});
const behindProxy = serve({ TRUSTED_PROXIES: "10.9.0.0/16, 127.0.0.1" });

describe("sign-in under attack", () => {
  test("200 wrong passwords at once for one email: only LOGIN_MAX_FAILURES are checked, then even the right one waits out the window", async () => {
    const user = await newUser(db);
    const api = client(behindProxy, "198.51.100.11");
    const answers = await Promise.all(Array.from({ length: 200 }, () => outcome(api.auth.login.mutate({ email: user.email, password: "guess" }))));
    const incorrect = answers.filter((answer) => answer.status === 401);
    const limited = answers.filter((answer) => answer.status === 429);
    expect(incorrect).toHaveLength(LOGIN_MAX_FAILURES);
    expect(limited).toHaveLength(200 - LOGIN_MAX_FAILURES);
    expect(limited[0]!.message).toStartWith("Too many failed sign-ins for this email.");
    expect(await failuresOf(user.email)).toBe(LOGIN_MAX_FAILURES);

    const refused = await outcome(api.auth.login.mutate({ email: user.email, password: user.password, client: "cli" }));
    expect(refused.status).toBe(429);
    expect(refused.retryAfterSeconds).toBeGreaterThan(14 * 60);
    expect(refused.retryAfterHeader).toBe(String(refused.retryAfterSeconds));

    await db
      .update(loginFailures)
      .set({ at: sql`${loginFailures.at} - interval '15 minutes 1 second'` })
      .where(eq(loginFailures.email, user.email));
    const { sessionToken } = await api.auth.login.mutate({ email: user.email, password: user.password, client: "cli" });
    expect(sessionToken).toMatch(/^qdzs_/);
    expect(await failuresOf(user.email)).toBe(0);
  }, 30_000);

  test("another person's failures from the same address slow a right password down but never refuse it", async () => {
    const [victim, colleague] = [await newUser(db), await newUser(db)];
    const office = client(behindProxy, "198.51.100.12");
    // Within the address's allowance (4 × LOGIN_MAX_FAILURES): answered at once, all counted.
    const guesses = Array.from({ length: 4 * LOGIN_MAX_FAILURES }, (_, index) => (index < LOGIN_MAX_FAILURES ? victim.email : `spray-${index}@example.com`));
    for (const answer of await Promise.all(guesses.map((email) => outcome(office.auth.login.mutate({ email, password: "guess" }))))) {
      expect(answer.status).toBe(401);
    }
    // Beyond it: each further wrong password waits longer, then is answered 429.
    for (let index = 0; index < 5; index++) {
      const answer = await outcome(office.auth.login.mutate({ email: `more-${index}@example.com`, password: "guess" }));
      expect(answer).toMatchObject({ status: 429, message: expect.stringContaining("Too many failed sign-ins from your network") });
    }
    expect(await failuresFrom("198.51.100.12")).toBe(4 * LOGIN_MAX_FAILURES + 5);

    const started = performance.now();
    const signedIn = await office.auth.login.mutate({ email: colleague.email, password: colleague.password, client: "cli" });
    expect(signedIn.userId).toBe(colleague.userId);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1_000); // slowed: 6 over the allowance
    // The colleague's success clears only their own email's failures, not the address's.
    expect(await failuresFrom("198.51.100.12")).toBe(4 * LOGIN_MAX_FAILURES + 5);
  }, 30_000);

  test("a flood from one slowed address gets no password checked beyond those waiting in its line", async () => {
    const user = await newUser(db);
    const address = "198.51.100.13";
    // Well past the allowance already, so every further attempt waits the longest (3 s) and the line stays full.
    await db.insert(loginFailures).values(Array.from({ length: 40 }, (_, index) => ({ email: `flood-${index}@example.com`, ip: address })));
    const flooder = client(behindProxy, address);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, index) => outcome(flooder.auth.login.mutate({ email: `flood-more-${index}@example.com`, password: "guess" }))),
    );
    const checked = answers.filter((answer) => answer.message.includes("Too many failed sign-ins from your network"));
    const unchecked = answers.filter((answer) => answer.message.includes("Too many sign-ins in progress from your network"));
    expect(answers.every((answer) => answer.status === 429)).toBe(true);
    expect(checked.length + unchecked.length).toBe(40);
    expect(unchecked.length).toBeGreaterThan(0);
    // Only checked attempts count as failures: an unchecked one's reserved row is dropped.
    expect(await failuresFrom(address)).toBe(40 + checked.length);
    // Once the flood has been answered, a right password from that address gets through.
    expect((await flooder.auth.login.mutate({ email: user.email, password: user.password })).userId).toBe(user.userId);
  }, 30_000);

  test("through a listed proxy, failures count against the X-Forwarded-For client; spoofed entries left of it are ignored", async () => {
    const user = await newUser(db);
    const answer = await outcome(client(behindProxy, "1.2.3.4, 203.0.113.77, 10.9.0.1").auth.login.mutate({ email: user.email, password: "guess" }));
    expect(answer.status).toBe(401);
    expect(await addressesFailing(user.email)).toEqual(["203.0.113.77"]);
  });

  test("without TRUSTED_PROXIES, X-Forwarded-For is ignored: failures count against the socket's peer", async () => {
    const user = await newUser(db);
    const answer = await outcome(client(direct, "203.0.113.78").auth.login.mutate({ email: user.email, password: "guess" }));
    expect(answer.status).toBe(401);
    expect(await addressesFailing(user.email)).toEqual(["127.0.0.1"]);
  });

  test("rows that left the window are deleted when their email or address is next seen", async () => {
    const user = await newUser(db);
    await db.insert(loginFailures).values([
      { email: user.email, ip: "198.51.100.14", at: sql`now() - interval '2 days'` },
      { email: "someone-else@example.com", ip: "198.51.100.15", at: sql`now() - interval '2 days'` },
    ]);
    await client(behindProxy, "198.51.100.15").auth.login.mutate({ email: user.email, password: user.password });
    const left = await db.select({ n: count() }).from(loginFailures).where(sql`${loginFailures.ip} in ('198.51.100.14', '198.51.100.15')`);
    expect(left[0]!.n).toBe(0);
  });
});

describe("sign-up limit", () => {
  test(`the sign-up after SIGNUP_MAX_PER_IP from one address is answered 429 with when to retry; another address is fine`, async () => {
    const crowd = client(behindProxy, "203.0.113.10");
    for (let index = 0; index < SIGNUP_MAX_PER_IP; index++) {
      await crowd.auth.signup.mutate({ email: newEmail(), password: "0123456789ab", client: "cli" });
    }
    const email = newEmail();
    const refused = await outcome(crowd.auth.signup.mutate({ email, password: "0123456789ab", client: "cli" }));
    expect(refused).toMatchObject({ status: 429, code: "TOO_MANY_REQUESTS" });
    expect(refused.message).toMatch(/^Too many sign-ups from your network\. Try again in (59|60) minutes\.$/);
    expect(refused.retryAfterSeconds).toBeGreaterThan(59 * 60);
    expect(refused.retryAfterHeader).toBe(String(refused.retryAfterSeconds));
    expect(await db.select().from(users).where(eq(users.email, email))).toEqual([]);

    const elsewhere = await client(behindProxy, "203.0.113.11").auth.signup.mutate({ email: newEmail(), password: "0123456789ab", client: "cli" });
    expect(elsewhere.accountId).toMatch(/^acct_/);
  });

  test("sign-ups sent at once from one address are counted as they arrive: exactly SIGNUP_MAX_PER_IP get through", async () => {
    const crowd = client(behindProxy, "203.0.113.12");
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => outcome(crowd.auth.signup.mutate({ email: newEmail(), password: "0123456789ab", client: "cli" }))),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(SIGNUP_MAX_PER_IP);
    expect(answers.filter((answer) => answer.status === 429)).toHaveLength(12 - SIGNUP_MAX_PER_IP);
  });

  test("an address's sign-ups that left the window no longer count, and are deleted", async () => {
    await db.insert(signupAttempts).values(Array.from({ length: SIGNUP_MAX_PER_IP }, () => ({ ip: "203.0.113.13", at: sql`now() - interval '61 minutes'` })));
    await client(behindProxy, "203.0.113.13").auth.signup.mutate({ email: newEmail(), password: "0123456789ab" });
    expect(await db.select({ at: signupAttempts.at }).from(signupAttempts).where(eq(signupAttempts.ip, "203.0.113.13"))).toHaveLength(1);
  });
});

/** A real api on a free port, with the limits these tests assume; `settings` adds to them. */
function serve(settings: Record<string, string>): string {
  const config = loadConfig({
    PUBLIC_URL: "http://localhost:3000",
    QDZ_DATA_DIR: ".data/test",
    LOGIN_MAX_FAILURES: String(LOGIN_MAX_FAILURES),
    LOGIN_WINDOW_MINUTES: "15",
    SIGNUP_MAX_PER_IP: String(SIGNUP_MAX_PER_IP),
    SIGNUP_WINDOW_MINUTES: "60",
    ...settings,
  });
  const app = createApp({ db, config }).listen({ port: 0, hostname: "127.0.0.1" });
  afterAll(() => app.stop(true));
  return `http://127.0.0.1:${app.server!.port}`;
}

/** A client as the CLI builds one, sending `X-Forwarded-For` as a proxy in front of the api would. */
function client(url: string, forwardedFor?: string) {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${url}/trpc`, transformer, headers: () => (forwardedFor ? { "x-forwarded-for": forwardedFor } : {}) })],
  });
}

/** How a call was answered: its HTTP status, and for a refusal its message and when to retry. */
async function outcome(call: Promise<unknown>) {
  try {
    await call;
    return { status: 200, code: "OK", message: "" };
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    const data = error.data as { httpStatus: number; code: string; retryAfterSeconds?: number };
    const response = (error.meta as { response?: Response } | undefined)?.response;
    return {
      status: data.httpStatus,
      code: data.code,
      message: error.message,
      retryAfterSeconds: data.retryAfterSeconds,
      retryAfterHeader: response?.headers.get("retry-after") ?? null,
    };
  }
}

const newEmail = () => `signup-${randomBase62(8).toLowerCase()}@example.com`;

async function failuresOf(email: string) {
  const [row] = await db.select({ n: count() }).from(loginFailures).where(eq(loginFailures.email, email));
  return row!.n;
}

async function failuresFrom(ip: string) {
  const [row] = await db.select({ n: count() }).from(loginFailures).where(eq(loginFailures.ip, ip));
  return row!.n;
}

async function addressesFailing(email: string) {
  return (await db.select({ ip: loginFailures.ip }).from(loginFailures).where(eq(loginFailures.email, email))).map((row) => row.ip);
}

async function rowCounts() {
  const [u] = await db.select({ n: count() }).from(users);
  const [a] = await db.select({ n: count() }).from(accounts);
  const [m] = await db.select({ n: count() }).from(memberships);
  return [u!.n, a!.n, m!.n];
}

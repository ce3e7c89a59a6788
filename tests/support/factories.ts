import type { Database } from "../../db/client";
import { instances } from "../../db/schema";
import { createApp } from "../../server/app";
import type { Services } from "../../server/services";
import { createSession } from "../../src/accounts/sessions";
import { signUp } from "../../src/accounts/signup";
import { createApiKey } from "../../src/api-keys/keys";
import { resolveCaller } from "../../src/auth/caller";
import type { ApiKeyScope } from "../../src/auth/scopes";
import { gatewayFor } from "../../src/billing/gateway";
import { loadConfig } from "../../src/config";
import type { AccountContext } from "../../src/context";
import { newId, randomBase62 } from "../../src/ids";
import { HeartbeatBatcher } from "../../src/instances/heartbeats";
import { type JobQueue, noJobQueue } from "../../src/jobs/queue";
import type { Provider } from "../../src/providers/seam";
import { createCaller } from "../../src/trpc/router";

export const SCHEDULER_TOKEN = "scheduler-token-for-tests-0123456789abcdef";
export const testConfig = loadConfig({
  PUBLIC_URL: "http://localhost:3000",
  QDZ_DATA_DIR: ".data/test",
  BILLING_INTERNAL_TOKEN: SCHEDULER_TOKEN,
});

export interface TestUser {
  userId: string;
  accountId: string;
  email: string;
  password: string;
  /** A CLI-style session token for this user. */
  sessionToken: string;
}

/** A real user with their own account, signed up through the domain verb. */
export async function newUser(db: Database, email = `user-${randomBase62(8).toLowerCase()}@example.com`): Promise<TestUser> {
  const password = `pw-${randomBase62(16)}`;
  const user = await signUp(db, { email, password });
  const { token } = await createSession(db, user, 1);
  return { ...user, password, sessionToken: token };
}

/** The account context a domain verb receives for this user, as resolved by the api. */
export async function contextOf(db: Database, user: TestUser): Promise<AccountContext> {
  const caller = (await resolveCaller(db, bearer(user.sessionToken)))!;
  return { db, accountId: caller.accountId, role: caller.role, actor: caller.actor };
}

/** A key made by `user` through the domain verb; the scope defaults as the product's does ('inference'). */
export async function newApiKey(db: Database, user: TestUser, options: { name?: string; scope?: ApiKeyScope } = {}) {
  return createApiKey(await contextOf(db, user), { name: options.name ?? "test key", scope: options.scope });
}

/**
 * What a REST test of an account needs: `user`'s keys of each scope, and a member it invited (a session and a
 * key of scope full): every route is tried with a key without its scope, and as a member as well as the owner.
 */
export async function accountWithKeysAndMember(db: Database, user: TestUser) {
  const key = async (owner: TestUser, scope: ApiKeyScope) => (await newApiKey(db, owner, { scope })).secret;
  const invite = await (await trpc(db, user.sessionToken)).account.createInvite({ role: "member" });
  const member = await newUser(db);
  await (await trpc(db, member.sessionToken)).account.acceptInvite({ token: invite.token });
  return {
    user,
    owner: user.sessionToken,
    full: await key(user, "full"),
    read: await key(user, "read"),
    inference: await key(user, "inference"),
    member: member.sessionToken,
    memberKey: await key(member, "full"),
  };
}

/** A tRPC caller authenticated by `token` (a session token or an API key), or anonymous. */
export async function trpc(
  db: Database,
  token?: string,
  extra: { origin?: string; ip?: string; cookie?: boolean; resHeaders?: Headers; jobs?: JobQueue; providers?: Provider[] } = {},
) {
  const request = new Request("http://localhost:3000/trpc", {
    headers: token ? (extra.cookie ? { cookie: `qdz_session=${token}` } : { authorization: `Bearer ${token}` }) : {},
  });
  return createCaller({
    ...servicesFor(db, { jobs: extra.jobs }),
    providers: extra.providers ?? [],
    requestId: "req_test",
    caller: await resolveCaller(db, request),
    ip: extra.ip ?? "127.0.0.1",
    origin: extra.origin ?? null,
    allowedOrigins: ["http://localhost:3000"],
    resHeaders: extra.resHeaders ?? new Headers(),
  });
}

/** The api's services for a test database, with webhook delivery going through a real app instance. */
export function servicesFor(db: Database, options: { jobs?: JobQueue; heartbeats?: HeartbeatBatcher } = {}): Services {
  const jobs = options.jobs ?? noJobQueue;
  const heartbeats = options.heartbeats ?? new HeartbeatBatcher(db);
  const app = createApp({ db, config: testConfig, jobs, heartbeats });
  return {
    db,
    config: testConfig,
    jobs,
    heartbeats,
    providers: [],
    gateway: gatewayFor(testConfig),
    deliverWebhook: async (payload, signature) =>
      (await app.handle(new Request("http://localhost:3000/webhooks/stripe", { method: "POST", headers: { "stripe-signature": signature }, body: payload })))
        .status,
  };
}

function bearer(token: string): Request {
  return new Request("http://localhost/", { headers: { authorization: `Bearer ${token}` } });
}

/**
 * A bare instance row of `accountId`, written directly (no placement, no pod):
 * for tests of what reads instances (screening, metering) rather than of launching.
 */
export async function insertInstanceRow(db: Database, values: Partial<typeof instances.$inferInsert> & { accountId: string }): Promise<string> {
  const id = values.id ?? newId("instance");
  await db.insert(instances).values({
    state: "running",
    modelClass: "llm",
    gpuPreferences: ["L4"],
    gpuCount: 1,
    tier: "secure",
    pricingSnapshot: { lockedAt: new Date().toISOString(), modelClass: "llm", tier: "secure", gpuCount: 1, rows: [] },
    runtimeConfig: {
      runtimeId: null,
      templateId: null,
      image: "x",
      command: [],
      localBinary: null,
      port: null,
      healthPath: null,
      ports: [],
      contextLength: null,
    },
    ...values,
    id,
  });
  return id;
}

/**
 * Hostile input (issue 10, items 1, 3, 4, 5 and 6): no request stalls the
 * api, no body is read past its route's limit, no answer leaks internals.
 * Stall tests run the hostile request while /healthz is polled on a real
 * socket and require every health answer within a generous bound: they
 * catch a blocked event loop, they are not benchmarks.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { eq } from "drizzle-orm";
import superjson from "superjson";
import type { z } from "zod";
import * as schema from "../../db/schema";
import { AGENT_REPORT_MAX_BYTES } from "../../routes/agent";
import { BILLING_MAX_BODY_BYTES } from "../../routes/billing";
import { webRoutes } from "../../routes/web";
import { STRIPE_EVENT_MAX_BYTES } from "../../routes/webhooks";
import { createApp } from "../../server/app";
import { checkoutInput, debitInput, ledgerQuery } from "../../src/billing/schemas";
import { createClient } from "../../src/cli/client";
import { heartbeatBody } from "../../src/instances/agent-contract";
import { type AppRouter, appRouter } from "../../src/trpc/router";
import { TRPC_MAX_BATCH_CALLS, transformer } from "../../src/trpc/wire";
import { usageRestQuery } from "../../src/usage/schemas";
import { freshDatabase } from "../support/db";
import { newUser, SCHEDULER_TOKEN, testConfig } from "../support/factories";
import { HEALTH_BOUND_MS, whilePollingHealth } from "../support/health";

const { db } = await freshDatabase();
const app = createApp({ db, config: testConfig });
const site = "http://localhost:3000";
const served = createApp({ db, config: testConfig }).listen({ port: 0, hostname: "127.0.0.1" });
const base = `http://127.0.0.1:${served.server!.port}`;
afterAll(() => served.stop(true));

const trpcUrl = (path: string, input?: unknown) => `${base}/trpc/${path}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`;
/** A tRPC error answer out of superjson's envelope (outputs, errors included, stay superjson). */
const trpcErrorOf = async (response: Response) => superjson.deserialize<{ message: string; data: Record<string, any> }>((await response.json()).error);

/** The router's procedures by dotted path, as tRPC keeps them at run time. */
const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: string; inputs: z.ZodType[] } }>;

/** Text no answer may carry: SQL, superjson's or the runtime's internals, file paths. */
const LEAKS = [
  /Failed query/i,
  /\binsert into\b/i,
  /\bselect\b.*\bfrom\b/i,
  /params:/i,
  /Maximum call stack/i,
  /function\s*\(|=>/,
  /node_modules|\/work\/|ENAMETOOLONG|EISDIR/,
];
function expectNoLeak(text: string) {
  for (const leak of LEAKS) expect(text).not.toMatch(leak);
}

describe("item 1: tRPC inputs are plain JSON; superjson never reads what a client sends", () => {
  test("a meta.values that made superjson recurse is answered 400 at once, /healthz unaffected", async () => {
    const { result, slowestHealthMs, polls } = await whilePollingHealth(base, () =>
      fetch(trpcUrl("account.previewInvite", { json: { token: "x" }, meta: { values: "x" } })),
    );
    expect(result.status).toBe(400);
    const text = await result.text();
    expectNoLeak(text);
    const error = superjson.deserialize<{ message: string; data: Record<string, unknown> }>(JSON.parse(text).error);
    // The envelope is just an object without a token now.
    expect(error.message).toBe("Token is required.");
    expect(error.data.requestId).toBe(result.headers.get("x-request-id"));
    expect(polls).toBeGreaterThan(0);
    expect(slowestHealthMs).toBeLessThan(HEALTH_BOUND_MS);
  });

  test("three auth.login calls with a custom meta at once are 400s, /healthz unaffected", async () => {
    const login = () =>
      fetch(trpcUrl("auth.login"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ json: { email: "a@example.com", password: "x" }, meta: { values: { email: ["custom", "x"] } } }),
      });
    const { result, slowestHealthMs } = await whilePollingHealth(base, () => Promise.all([login(), login(), login()]));
    for (const response of result) {
      expect(response.status).toBe(400);
      expect((await trpcErrorOf(response)).message).toContain("Email is required.");
    }
    expect(slowestHealthMs).toBeLessThan(HEALTH_BOUND_MS);
  });

  test("referentialEqualities answers a validation error, not superjson's source text", async () => {
    const response = await fetch(trpcUrl("account.previewInvite", { json: { token: "x" }, meta: { referentialEqualities: "x" } }));
    expect(response.status).toBe(400);
    const text = await response.text();
    expectNoLeak(text);
    expect(superjson.deserialize<{ message: string }>(JSON.parse(text).error).message).toBe("Token is required.");
  });

  test("a mebibyte of nested arrays is refused before JSON.parse, /healthz unaffected", async () => {
    const depth = 500_000;
    const { result, slowestHealthMs } = await whilePollingHealth(base, () =>
      fetch(trpcUrl("auth.login"), { method: "POST", headers: { "content-type": "application/json" }, body: "[".repeat(depth) + "]".repeat(depth) }),
    );
    expect(result.status).toBe(400);
    expect((await trpcErrorOf(result)).message).toBe("The input nests deeper than 32 levels.");
    expect(slowestHealthMs).toBeLessThan(HEALTH_BOUND_MS);
    const query = await fetch(trpcUrl("account.previewInvite", JSON.parse(`${"[".repeat(40)}${"]".repeat(40)}`)));
    expect(query.status).toBe(400);
  });

  test("plain inputs work and outputs keep superjson: the CLI's client gets Dates back", async () => {
    const user = await newUser(db);
    const client = createClient(base, user.sessionToken);
    await client.sshKeys.list.query();
    const invite = await client.account.createInvite.mutate({ role: "member" });
    expect(invite.expiresAt).toBeInstanceOf(Date);
    const preview = await createClient(base).account.previewInvite.query({ token: invite.token });
    expect(preview).toBeTruthy();
  });
});

describe("item 4: a batch holds at most TRPC_MAX_BATCH_CALLS calls", () => {
  const batchOf = (count: number) => fetch(`${base}/trpc/${Array(count).fill("auth.me").join(",")}?batch=1&input=${encodeURIComponent("{}")}`);

  test.each([26, 1000])("%i calls are refused with a 400 naming the limit, before any runs", async (count) => {
    const { result, slowestHealthMs } = await whilePollingHealth(base, () => batchOf(count));
    expect(result.status).toBe(400);
    const error = await trpcErrorOf(result);
    expect(error.message).toBe(`A batch may hold at most ${TRPC_MAX_BATCH_CALLS} calls; this one has ${count}.`);
    expect(error.data.code).toBe("BAD_REQUEST");
    expect(error.data.requestId).toBe(result.headers.get("x-request-id"));
    expect(slowestHealthMs).toBeLessThan(HEALTH_BOUND_MS);
  });

  test("an encoded comma counts as tRPC counts it", async () => {
    const response = await fetch(`${base}/trpc/${Array(30).fill("auth.me").join("%2C")}?batch=1&input=${encodeURIComponent("{}")}`);
    expect(response.status).toBe(400);
  });

  test(`${TRPC_MAX_BATCH_CALLS} calls go through`, async () => {
    const response = await batchOf(TRPC_MAX_BATCH_CALLS);
    expect(response.status).toBe(200);
    expect(await response.json()).toHaveLength(TRPC_MAX_BATCH_CALLS);
  });

  test("a client link set up as the web app's splits a larger burst into batches the api accepts", async () => {
    const user = await newUser(db);
    const client = createTRPCClient<AppRouter>({
      links: [httpBatchLink({ url: `${base}/trpc`, transformer, maxItems: TRPC_MAX_BATCH_CALLS, headers: { authorization: `Bearer ${user.sessionToken}` } })],
    });
    const answers = await Promise.all(Array.from({ length: 60 }, () => client.auth.me.query()));
    expect(answers.every((me) => me?.userId === user.userId)).toBe(true);
  });
});

/** A body that would be `totalBytes` long, sent chunked (no Content-Length); `pulled` says how much the server asked for. */
function endlessBody(totalBytes = 120 * 1024 * 1024) {
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  const state = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled >= totalBytes) return controller.close();
      state.pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, state };
}

function postStreamed(path: string, headers: Record<string, string> = {}) {
  const { stream, state } = endlessBody();
  const response = fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: stream,
    duplex: "half",
  } as RequestInit);
  return { response, state };
}

/** Sends only a request head over a raw socket and returns what the server answers within 3 s (the body is never sent). */
async function headOnly(head: string): Promise<string> {
  let received = "";
  const { promise: answered, resolve } = Promise.withResolvers<void>();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port: served.server!.port!,
    socket: {
      data(_socket, data) {
        received += data.toString();
        if (received.includes("\r\n\r\n")) resolve();
      },
      close: () => resolve(),
      error: () => resolve(),
    },
  });
  socket.write(head);
  await Promise.race([answered, Bun.sleep(3000)]);
  await Bun.sleep(50);
  socket.end();
  return received;
}

describe("item 3: every route reads at most its own limit, answering 413 before buffering", () => {
  test("five 120 MB streamed webhook bodies: 413 each in the REST shape, streams left unread, /healthz unaffected", async () => {
    const { result, slowestHealthMs } = await whilePollingHealth(base, async () => {
      const posts = Array.from({ length: 5 }, () => postStreamed("/webhooks/stripe", { "stripe-signature": "t=1,v1=x" }));
      return { responses: await Promise.all(posts.map((p) => p.response)), states: posts.map((p) => p.state) };
    });
    for (const response of result.responses) {
      expect(response.status).toBe(413);
      const { error } = await response.json();
      expect(error).toEqual({
        code: "payload_too_large",
        message: `The request body is larger than the ${STRIPE_EVENT_MAX_BYTES} bytes this endpoint accepts.`,
        field: null,
        request_id: response.headers.get("x-request-id"),
      });
    }
    // What socket buffers hold in flight, not 120 MB.
    for (const state of result.states) expect(state.pulled).toBeLessThan(16 * 1024 * 1024);
    expect(slowestHealthMs).toBeLessThan(HEALTH_BOUND_MS);
  });

  test("a 120 MB streamed auth.login: 413 in tRPC's shape, stream left unread", async () => {
    const { result, slowestHealthMs } = await whilePollingHealth(base, async () => {
      const post = postStreamed("/trpc/auth.login");
      return { response: await post.response, state: post.state };
    });
    expect(result.response.status).toBe(413);
    const error = await trpcErrorOf(result.response);
    expect(error.message).toBe(`The request body is larger than the ${testConfig.TRPC_MAX_BODY_BYTES} bytes this endpoint accepts.`);
    expect(error.data.code).toBe("PAYLOAD_TOO_LARGE");
    expect(error.data.requestId).toBe(result.response.headers.get("x-request-id"));
    expect(result.state.pulled).toBeLessThan(16 * 1024 * 1024);
    expect(slowestHealthMs).toBeLessThan(HEALTH_BOUND_MS);
  });

  test("a declared Content-Length over the limit is refused from the head alone", async () => {
    const declared = testConfig.TRPC_MAX_BODY_BYTES + 1;
    const answer = await headOnly(`POST /trpc/auth.login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`);
    expect(answer).toStartWith("HTTP/1.1 413");
    expect(answer.toLowerCase()).toContain("x-request-id: req_");
  });

  const largestRouteLimit = Math.max(testConfig.V1_MAX_BODY_BYTES, testConfig.TRPC_MAX_BODY_BYTES);

  test("a body just over the largest route limit still reaches its route and gets the route's own 413", async () => {
    const declared = largestRouteLimit + 1;
    const answer = await headOnly(`POST /trpc/auth.login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`);
    expect(answer).toStartWith("HTTP/1.1 413");
    expect(answer.toLowerCase()).toContain("x-request-id: req_");
  });

  test("a body far past every route's limit is refused by the server itself (Bun's maxRequestBodySize)", async () => {
    // Under Bun's default cap (128 MiB): only the configured backstop refuses it, before any route sees it.
    const declared = 2 * largestRouteLimit + 1;
    const answer = await headOnly(`POST /trpc/auth.login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${declared}\r\n\r\n`);
    expect(answer).toStartWith("HTTP/1.1 413");
    expect(answer.toLowerCase()).not.toContain("x-request-id");
  });

  test("billing REST refuses a body over its limit in its error shape", async () => {
    const response = await app.handle(
      new Request(`${site}/billing/debit`, {
        method: "POST",
        headers: { authorization: `Bearer ${SCHEDULER_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ account_id: "acct_x", amount_cents: 1, reference: "r", description: "x".repeat(BILLING_MAX_BODY_BYTES) }),
      }),
    );
    expect(response.status).toBe(413);
    expect((await response.json()).error.code).toBe("payload_too_large");
  });

  test("each limit fits the largest input its route legitimately takes", () => {
    const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).byteLength;
    // A heartbeat of an exited workload whose 20,000 last characters are all escaped control characters.
    const heartbeat = {
      runId: "run_00000000000000000000",
      at: new Date().toISOString(),
      workload: { state: "exited", exitCode: 1, signal: null, lastLines: "\u001b".repeat(20_000) },
    };
    expect(heartbeatBody.safeParse(heartbeat).success).toBe(true);
    expect(bytes(heartbeat)).toBeLessThanOrEqual(AGENT_REPORT_MAX_BYTES);
    // A firewall test prompt at its 100,000-character maximum, every character three UTF-8 bytes.
    expect(bytes({ firewallId: "fw_00000000000000000000", text: "€".repeat(100_000) })).toBeLessThanOrEqual(testConfig.TRPC_MAX_BODY_BYTES);
    // A full deny list: 1,000 terms of 200 characters.
    const denyList = { id: "deny", kind: "deny_list", action: "block", options: { terms: Array.from({ length: 1000 }, () => "t".repeat(200)) } };
    expect(bytes({ name: "f", rules: [denyList, denyList, denyList, denyList] })).toBeLessThanOrEqual(testConfig.TRPC_MAX_BODY_BYTES);
  });
});

// A database that has gone away: every query fails with drizzle's "Failed query: … params: …".
const broken = await freshDatabase({ closeAfterAll: false });
await broken.close();

describe("item 5a: an unknown error answers a generic message with the request id, on every surface", () => {
  const brokenApp = createApp({ db: broken.db, config: testConfig });
  const call = (path: string, init: RequestInit = {}) => brokenApp.handle(new Request(`${site}${path}`, init));
  const bearer = { authorization: "Bearer qdz_0000000000000000000000000000000000000000000" };

  test("tRPC", async () => {
    const response = await call(`/trpc/account.previewInvite?input=${encodeURIComponent(JSON.stringify({ token: `qdzi_${"a".repeat(43)}` }))}`);
    expect(response.status).toBe(500);
    const text = await response.text();
    expectNoLeak(text);
    const error = superjson.deserialize<{ message: string; data: Record<string, unknown> }>(JSON.parse(text).error);
    expect(error.message).toBe("Something went wrong on our side.");
    expect(error.data.requestId).toBe(response.headers.get("x-request-id"));
  });

  test("REST", async () => {
    const response = await call("/billing/balance", { headers: bearer });
    expect(response.status).toBe(500);
    const text = await response.text();
    expectNoLeak(text);
    expect(JSON.parse(text).error).toEqual({
      code: "internal",
      message: "Something went wrong on our side.",
      field: null,
      request_id: response.headers.get("x-request-id"),
    });
  });

  test("/v1", async () => {
    const response = await call("/v1/models", { headers: bearer });
    expect(response.status).toBe(500);
    const text = await response.text();
    expectNoLeak(text);
    expect(JSON.parse(text).error.message).toBe("Something went wrong on our side.");
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
  });
});

const owner = await newUser(db);

describe("item 5b: NUL and lone surrogates are refused at validation, naming the field", () => {
  const NUL = "a\u0000b";
  const LONE = "a\ud800b";
  const auth = { authorization: `Bearer ${owner.sessionToken}` };

  /** Row counts of every table a refused call could have written, plus the owner's account name. */
  async function stored() {
    const tables = [
      schema.users,
      schema.accounts,
      schema.memberships,
      schema.sessions,
      schema.invites,
      schema.apiKeys,
      schema.sshKeys,
      schema.instances,
      schema.instanceEvents,
      schema.checkoutSessions,
      schema.ledgerEntries,
      schema.firewalls,
      schema.runtimeInstalls,
    ];
    const counts = await Promise.all(tables.map((table) => db.$count(table)));
    const [account] = await db.select({ name: schema.accounts.name }).from(schema.accounts).where(eq(schema.accounts.id, owner.accountId));
    return { counts, name: account?.name };
  }

  /** [procedure, input, the field named]: about every procedure that takes a string, plus the issue's own example. */
  const cases: [string, Record<string, unknown>, string][] = [
    ["apiKeys.create", { name: NUL }, "name"],
    ["apiKeys.create", { name: LONE }, "name"],
    ["account.rename", { name: NUL }, "name"],
    ["account.removeMember", { userId: NUL }, "userId"],
    ["account.setRole", { userId: NUL, role: "member" }, "userId"],
    ["account.createInvite", { role: "member", email: `${NUL}@example.com` }, "email"],
    ["account.revokeInvite", { id: NUL }, "id"],
    ["auth.signup", { email: `nul-${Date.now()}@example.com`, password: `${NUL}cdefghijk` }, "password"],
    ["auth.signup", { email: `nul2-${Date.now()}@example.com`, password: "0123456789ab", accountName: LONE }, "accountName"],
    ["auth.login", { email: `${NUL}@example.com`, password: "x" }, "email"],
    ["auth.switchAccount", { accountId: NUL }, "accountId"],
    ["sshKeys.add", { publicKey: `ssh-ed25519 AAAA${NUL}`, name: "k" }, "publicKey"],
    ["sshKeys.add", { publicKey: "ssh-ed25519 AAAA", name: NUL }, "name"],
    ["sshKeys.remove", { id: NUL }, "id"],
    ["billing.ledger", { cursor: NUL }, "cursor"],
    ["billing.ledger", { instanceId: LONE }, "instanceId"],
    ["billing.checkout", { id: NUL }, "id"],
    ["billing.completeDevCheckout", { id: NUL, outcome: "pay" }, "id"],
    ["instances.launch", { name: NUL, runtimeId: "reference", hfRepo: "org/model", gpuPreferences: ["L4"] }, "name"],
    ["instances.launch", { description: LONE, runtimeId: "reference", hfRepo: "org/model", gpuPreferences: ["L4"] }, "description"],
    ["instances.validate", { runtimeId: "reference", hfRepo: NUL, gpuPreferences: ["L4"], gpuCount: 1 }, "hfRepo"],
    ["instances.quote", { gpuPreferences: [NUL], gpuCount: 1, tier: "secure", modelClass: "llm" }, "gpuPreferences"],
    ["instances.get", { id: NUL }, "id"],
    ["instances.logs", { id: "inst_00000000000000000000", runId: NUL }, "runId"],
    ["instances.stopMany", { ids: [NUL] }, "ids"],
    ["instances.updateSettings", { id: "inst_00000000000000000000", name: NUL }, "name"],
    ["runtimes.install", { runtimeId: NUL }, "runtimeId"],
    ["firewalls.get", { id: NUL }, "id"],
    ["firewalls.delete", { id: LONE }, "id"],
  ];

  test.each(cases)("%s %o: 400 naming the field, nothing stored, no SQL", async (path, input, field) => {
    const before = await stored();
    const procedure = procedures[path]!;
    const request =
      procedure._def.type === "query"
        ? new Request(`${site}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: auth })
        : new Request(`${site}/trpc/${path}`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(input) });
    const response = await app.handle(request);
    const text = await response.text();
    expect(response.status).toBe(400);
    expectNoLeak(text);
    const error = superjson.deserialize<{ message: string; data: Record<string, any> }>(JSON.parse(text).error);
    // A sentence naming the field in words ("Name", "GPU type 1"), and the same sentence under the field for the form.
    expect(error.message).toMatch(/^[A-Z][^:]* must not contain NUL characters or unpaired surrogates\.$/);
    expect(error.data.fieldErrors[field]).toEqual([error.message]);
    expect(Object.keys(error.data.fieldErrors)).toContain(field);
    expect(await stored()).toEqual(before);
  });

  test.each([
    [
      "POST",
      "/billing/checkout",
      { amount_cents: 5000, currency: "eur", success_url: `https://app.example/${NUL}`, cancel_url: "https://app.example/c" },
      "success_url",
    ],
    ["POST", "/billing/debit", { account_id: owner.accountId, amount_cents: 1, reference: NUL }, "reference"],
    ["GET", `/billing/ledger?cursor=${encodeURIComponent(NUL)}`, undefined, "cursor"],
    ["GET", `/billing/ledger?instance_id=${encodeURIComponent("a")}%ED%A0%80`, undefined, null],
  ] as const)("REST %s %s: 400 naming the field, nothing stored", async (method, path, body, field) => {
    const before = await stored();
    const token = path === "/billing/debit" ? SCHEDULER_TOKEN : owner.sessionToken;
    const response = await app.handle(
      new Request(`${site}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body && JSON.stringify(body),
      }),
    );
    const text = await response.text();
    expectNoLeak(text);
    if (field === null) {
      // Percent-encoded bytes that are not UTF-8 decode to U+FFFD: harmless, so this only must not fail internally.
      expect(response.status).toBeLessThan(500);
    } else {
      expect(response.status).toBe(400);
      expect(JSON.parse(text).error.field).toBe(field);
    }
    expect(await stored()).toEqual(before);
  });
});

/** Every string leaf of an input schema, with a way to build an input carrying a value there (and the literals that select a union's branch). */
interface StringLeaf {
  path: (string | number)[];
  build: (value: string) => unknown;
}

function stringLeaves(type: z.ZodType, path: (string | number)[] = [], wrap: (value: unknown) => unknown = (v) => v): StringLeaf[] {
  const def = (type as any)._zod.def;
  switch (def.type) {
    case "string":
      return [{ path, build: wrap }];
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "nonoptional":
    case "readonly":
    case "catch":
      return stringLeaves(def.innerType, path, wrap);
    case "pipe":
      return stringLeaves(def.in, path, wrap);
    case "array":
      return stringLeaves(def.element, [...path, 0], (v) => wrap([v]));
    case "union":
      return def.options.flatMap((option: z.ZodType) => stringLeaves(option, path, wrap));
    case "intersection":
      return [...stringLeaves(def.left, path, wrap), ...stringLeaves(def.right, path, wrap)];
    case "object": {
      const literals = Object.fromEntries(
        Object.entries(def.shape as Record<string, z.ZodType>)
          .filter(([, field]) => (field as any)._zod.def.type === "literal")
          .map(([key, field]) => [key, (field as any)._zod.def.values[0]]),
      );
      return Object.entries(def.shape as Record<string, z.ZodType>).flatMap(([key, field]) =>
        stringLeaves(field, [...path, key], (v) => wrap({ ...literals, [key]: v })),
      );
    }
    default:
      return [];
  }
}

/** Fields that may carry any text because it is never stored: a firewall test prompt is screened and dropped, like a /v1 prompt; a password is only compared with a hash. */
const NEVER_STORED: Record<string, string[]> = { "firewalls.test": ["text"], "auth.login": ["password"] };

/** Bad values shaped to pass every other check a field might make (a URL, an email). */
const HOSTILE = ["a\u0000b", "a\ud800b", "https://app.example/a\u0000b", "https://app.example/a\udc00b", "a\u0000b@example.com"];

describe("item 5b: every procedure and REST schema refuses NUL and lone surrogates in every string field", () => {
  const withInput = Object.entries(procedures)
    .filter(([, procedure]) => procedure._def.inputs.length > 0)
    .map(([path, procedure]) => [path, procedure._def.inputs] as const);
  const rest = [
    ["POST /billing/checkout", [checkoutInput]],
    ["POST /billing/debit", [debitInput]],
    ["GET /billing/ledger", [ledgerQuery]],
    ["GET /billing/usage", [usageRestQuery]],
  ] as const;

  test("the sweep finds the procedures' string fields", () => {
    expect(withInput.length).toBeGreaterThan(30);
    expect(withInput.flatMap(([, inputs]) => inputs.flatMap((input) => stringLeaves(input))).length).toBeGreaterThan(40);
  });

  test.each([...withInput, ...rest])("%s", (name, inputs) => {
    for (const input of inputs) {
      for (const leaf of stringLeaves(input)) {
        if (NEVER_STORED[name]?.includes(leaf.path.join("."))) continue;
        for (const bad of HOSTILE) {
          const parsed = input.safeParse(leaf.build(bad));
          const refusedThere = !parsed.success && parsed.error.issues.some((issue) => issue.path.join(".") === leaf.path.join("."));
          if (!refusedThere) throw new Error(`${leaf.path.join(".")} accepted ${JSON.stringify(bad)}`);
        }
      }
    }
  });
});

describe("item 6: static serving answers 404 for what it cannot serve, and never a path", () => {
  const buildDir = mkdtempSync(join(tmpdir(), "qdz-web-"));
  mkdirSync(join(buildDir, "_app", "immutable"), { recursive: true });
  writeFileSync(join(buildDir, "200.html"), "<!doctype html><title>shell</title>");
  writeFileSync(join(buildDir, "_app", "immutable", "app.js"), "export {};");
  writeFileSync(join(buildDir, "favicon.png"), "png");
  afterAll(() => rmSync(buildDir, { recursive: true, force: true }));
  const web = webRoutes(buildDir);
  const get = (path: string) => web.handle(new Request(`${site}${path}`));

  test.each([
    ["a 5,000-character path", `/${"a".repeat(5000)}`],
    ["a 300-character name", `/instances/${"b".repeat(300)}`],
    ["a directory", "/_app"],
    ["a directory with a slash", "/_app/immutable/"],
    ["a NUL", "/a%00b"],
    ["a malformed escape", "/a%E0%A4%A"],
    ["a control character", "/a%01b"],
    ["a missing asset", "/_app/immutable/missing.js"],
    ["a file as a directory", "/favicon.png/x"],
    ["an unknown agent route", "/agent/unknown"],
    ["an unknown webhook route", "/webhooks/paypal"],
  ])("%s is a 404 that names no path", async (_what, path) => {
    const response = await get(path);
    expect(response.status).toBe(404);
    const text = await response.text();
    expect(text).toBe("Not found.");
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
  });

  test.each(["/", "/instances", "/instances/inst_abc/", "/%2e%2e/%2e%2e/etc/passwd", "/settings/api-keys"])("%s gets the app shell", async (path) => {
    const response = await get(path);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("<title>shell</title>");
  });

  test("built files are served, immutable ones cached forever", async () => {
    const asset = await get("/_app/immutable/app.js");
    expect(asset.status).toBe(200);
    expect(await asset.text()).toBe("export {};");
    expect(asset.headers.get("cache-control")).toContain("immutable");
    const icon = await get("/favicon.png");
    expect(icon.headers.get("cache-control")).toBe("no-cache");
  });

  test("over the api's own socket, a long path is a 404 too", async () => {
    const response = await fetch(`${base}/${"a".repeat(5000)}`);
    // 503 when the web app is not built in this checkout; never a 500 with a path.
    expect([404, 503]).toContain(response.status);
    expectNoLeak(await response.text());
  });
});

/**
 * Alert webhooks end to end against a real receiver (Bun.serve on 127.0.0.1): what it receives and can verify
 * with Stripe's SDK, retries through real pg-boss, single attempts through the worker's handler, the URL
 * policy, and who may see and do what.
 */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import type { Job } from "pg-boss";
import Stripe from "stripe";
import { resolveCaller } from "../../src/auth/caller";
import { loadConfig } from "../../src/config";
import type { DomainError } from "../../src/errors";
import type { JobPayloads } from "../../src/jobs/names";
import { createQueue, type JobQueue, jobQueue } from "../../src/jobs/queue";
import { type Alert, notify, unreadCount } from "../../src/notifications/notify";
import { createCaller } from "../../src/trpc/router";
import { attemptDelivery } from "../../src/webhooks/deliver";
import { setEndpoint } from "../../src/webhooks/endpoints";
import { SIGNATURE_HEADER, signatureHeader, verifySignature } from "../../src/webhooks/signature";
import { checkWebhookUrl } from "../../src/webhooks/url-policy";
import { deliverWebhookJob } from "../../workers/deliver-webhook";
import type { WorkerServices } from "../../workers/job";
import { freshDatabase } from "../support/db";
import { expectTrpcError } from "../support/errors";
import { contextOf, newUser, servicesFor, type TestUser, trpc } from "../support/factories";
import { sign as stripeSigned } from "../support/stripe";

const database = await freshDatabase();
const { db } = database;

/** Development settings: a receiver on this machine, and retries quick enough for a test (1–2 s, then 2–4 s). */
const settings = loadConfig({
  PUBLIC_URL: "http://localhost:3000",
  QDZ_DATA_DIR: ".data/test",
  WEBHOOK_ALLOW_PRIVATE_URLS: "true",
  WEBHOOK_MAX_ATTEMPTS: "3",
  WEBHOOK_RETRY_DELAY_SECONDS: "1",
});

// ---- the receiver: one path per test, each with its own behaviour and its own record of what arrived

interface Received {
  headers: Headers;
  body: string;
}

const received = new Map<string, Received[]>();
const behaviours = new Map<string, (count: number) => Response | Promise<Response>>();
const receiver = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    const path = new URL(request.url).pathname;
    const list = received.get(path) ?? [];
    list.push({ headers: request.headers, body: await request.text() });
    received.set(path, list);
    return (behaviours.get(path) ?? (() => new Response("no such hook", { status: 404 })))(list.length);
  },
});
afterAll(() => receiver.stop(true));

let hooks = 0;
/** A receiver path answering with `behaviour(n)` for the n-th request it gets. */
function hook(behaviour: (count: number) => Response | Promise<Response>) {
  const path = `/hook-${++hooks}`;
  behaviours.set(path, behaviour);
  return { url: `http://127.0.0.1:${receiver.port}${path}`, received: () => received.get(path) ?? [] };
}

// ---- callers

/** A tRPC caller for `user` with the development settings above (tests/support's `trpc` has production's) and `jobs`. */
async function api(user: TestUser, jobs: JobQueue) {
  return createCaller({
    ...servicesFor(db, { jobs }),
    config: settings,
    requestId: "req_test",
    caller: await resolveCaller(db, new Request("http://localhost/", { headers: { authorization: `Bearer ${user.sessionToken}` } })),
    ip: "127.0.0.1",
    origin: null,
    allowedOrigins: ["http://localhost:3000"],
    resHeaders: new Headers(),
  });
}

/** A queue that only records what was sent: the tests below then run each attempt themselves, as the worker would. */
function recordingQueue() {
  const sent: string[] = [];
  const queue: JobQueue = {
    async send(name, payload) {
      if (name === "webhooks.deliver") sent.push((payload as JobPayloads["webhooks.deliver"]).deliveryId);
      return null;
    },
  };
  return { queue, sent };
}

/** Runs the worker's handler once for `deliveryId`, as pg-boss would on its run number `retryCount`. */
function runJob(deliveryId: string, overrides: Partial<typeof settings> = {}, retryCount = 0) {
  const job = deliverWebhookJob({ ...settings, ...overrides });
  const services: WorkerServices = { db, config: settings, jobs: recordingQueue().queue, providers: [] };
  const data = { deliveryId };
  const run = {
    id: `direct-${retryCount}`,
    name: job.name,
    data,
    retryCount,
    expireInSeconds: 60,
    heartbeatSeconds: null,
    signal: new AbortController().signal,
  };
  return job.handle(data, services, run as Job<typeof data>);
}

const budgetAlert = (percent: number): Alert => ({
  kind: "budget",
  dedupKey: `budget:test:${percent}:${crypto.randomUUID()}`,
  severity: "warning",
  title: `${percent} % of the monthly budget used`,
  body: `This month's spend reached ${percent} % of the account's budget.`,
  data: { percent, budget_cents: 10_000 },
});

/** An owner with an endpoint at `url`, and their caller. */
async function ownerWithEndpoint(url: string, jobs: JobQueue) {
  const user = await newUser(db);
  const caller = await api(user, jobs);
  const endpoint = await caller.webhooks.set({ url });
  return { user, caller, endpoint };
}

async function onlyDelivery(caller: Awaited<ReturnType<typeof api>>) {
  const { deliveries } = await caller.webhooks.deliveries({});
  expect(deliveries).toHaveLength(1);
  return deliveries[0]!;
}

const stripe = new Stripe("sk_test_x");

/**
 * What a Node receiver runs: `new Stripe(key).webhooks.constructEvent(body, header, secret)`. Under Bun the SDK
 * offers only `constructEventAsync` (its Bun build verifies with SubtleCrypto), so the synchronous call is made
 * by Node itself, with the SDK's Node build.
 */
async function constructEventInNode(checks: { body: string; header: string; secret: string }[]): Promise<unknown[]> {
  const script = `const Stripe = require("stripe"); let input = "";
    process.stdin.on("data", (c) => (input += c)).on("end", () => {
      const stripe = new Stripe("sk_test_x");
      const events = JSON.parse(input).map(({ body, header, secret }) => {
        try { return stripe.webhooks.constructEvent(body, header, secret); } catch (e) { return { refused: e.message }; }
      });
      process.stdout.write(JSON.stringify(events));
    });`;
  const node = Bun.spawn(["node", "-e", script], { stdin: new Blob([JSON.stringify(checks)]), stdout: "pipe", stderr: "inherit" });
  const output = await new Response(node.stdout).text();
  expect(await node.exited).toBe(0);
  return JSON.parse(output);
}

describe("through the queue (pg-boss, real retries)", async () => {
  const boss = createQueue(database.url, { spies: true });
  await boss.start();
  const job = deliverWebhookJob(settings);
  // As workers/registry.ts registers it, for this one queue and with the test's settings.
  await boss.createQueue(job.name, job.queue);
  const services: WorkerServices = { db, config: settings, jobs: jobQueue(boss), providers: [] };
  await boss.work<JobPayloads["webhooks.deliver"]>(job.name, { pollingIntervalSeconds: 0.5 }, async ([item]) => job.handle(item!.data, services, item!));
  afterAll(() => boss.stop({ graceful: false }));
  const spy = boss.getSpy<JobPayloads["webhooks.deliver"]>(job.name);
  const finished = (deliveryId: string) => spy.waitForJob((data) => data.deliveryId === deliveryId, "completed");
  beforeEach(() => spy.clear());

  test("a 500 is retried; the 200 after it delivers, and the receiver verifies the alert with Stripe's SDK", async () => {
    const target = hook((n) => (n === 1 ? new Response("try later", { status: 500 }) : new Response("ok")));
    const { user, caller, endpoint } = await ownerWithEndpoint(target.url, services.jobs);
    const notification = await notify(db, services.jobs, user.accountId, budgetAlert(80));

    const queued = await onlyDelivery(caller);
    await finished(queued.id);

    const delivery = await onlyDelivery(caller);
    expect(delivery).toMatchObject({ status: "delivered", type: "alert.budget", lastStatusCode: 200, lastError: null, notificationId: notification!.id });
    expect(delivery.attempts.map((a) => [a.attempt, a.statusCode, a.error])).toEqual([
      [1, 500, "HTTP 500: try later"],
      [2, 200, null],
    ]);
    const requests = target.received();
    expect(requests).toHaveLength(2);
    for (const request of requests) {
      // The same bytes every time, as stored in the log.
      expect(request.body).toBe(delivery.payload);
      expect(request.headers.get("content-type")).toBe("application/json");
      expect(request.headers.get("user-agent")).toBe("QDivZero-Webhooks/1");
      expect(request.headers.get("qdz-delivery")).toBe(delivery.id);
      expect(verifySignature(request.body, request.headers.get(SIGNATURE_HEADER)!, endpoint.secret!)).toBe(true);
    }
    const checks = requests.map((r) => ({ body: r.body, header: r.headers.get(SIGNATURE_HEADER)!, secret: endpoint.secret! }));
    const events = [
      ...(await constructEventInNode(checks)),
      ...(await Promise.all(checks.map((c) => stripe.webhooks.constructEventAsync(c.body, c.header, c.secret)))),
    ];
    for (const event of events) {
      expect(event).toMatchObject({
        id: delivery.id,
        type: "alert.budget",
        account_id: user.accountId,
        data: {
          notification: {
            id: notification!.id,
            kind: "budget",
            severity: "warning",
            title: "80 % of the monthly budget used",
            instance_id: null,
            data: { percent: 80, budget_cents: 10_000 },
          },
        },
      });
    }
  });

  test("a receiver that always fails ends failed after WEBHOOK_MAX_ATTEMPTS; a redelivery continues the numbering", async () => {
    let healthy = false;
    const target = hook(() => (healthy ? new Response(null, { status: 204 }) : new Response("down", { status: 503 })));
    const { user, caller } = await ownerWithEndpoint(target.url, services.jobs);
    await notify(db, services.jobs, user.accountId, budgetAlert(100));
    const queued = await onlyDelivery(caller);
    await finished(queued.id);

    const failed = await onlyDelivery(caller);
    expect(failed.status).toBe("failed");
    expect(failed.attempts.map((a) => [a.attempt, a.statusCode])).toEqual([
      [1, 503],
      [2, 503],
      [3, 503],
    ]);
    expect(target.received()).toHaveLength(settings.WEBHOOK_MAX_ATTEMPTS);

    healthy = true;
    spy.clear();
    expect((await caller.webhooks.redeliver({ id: failed.id })).status).toBe("pending");
    await finished(failed.id);
    const delivered = await onlyDelivery(caller);
    expect(delivered.status).toBe("delivered");
    expect(delivered.attempts.map((a) => [a.attempt, a.statusCode])).toEqual([
      [1, 503],
      [2, 503],
      [3, 503],
      [4, 204],
    ]);
    // The same event: a receiver that did get an earlier attempt can drop this one by its id.
    expect(target.received().at(-1)!.body).toBe(failed.payload);
  });
});

describe("one attempt (the worker's handler, run directly)", () => {
  test("sending a test raises it in the alert list and delivers it signed with the rotated secret", async () => {
    const { queue, sent } = recordingQueue();
    const target = hook(() => new Response("thanks"));
    const { user, caller, endpoint } = await ownerWithEndpoint(target.url, queue);
    const rotated = await caller.webhooks.rotateSecret();
    expect(rotated.secret).toMatch(/^whsec_[0-9A-Za-z]{32}$/);
    expect(rotated.secret).not.toBe(endpoint.secret);

    const test = await caller.webhooks.sendTest();
    expect(test).toMatchObject({ status: "pending", type: "alert.webhook_test" });
    expect(sent).toEqual([test.id]);
    // In the bell too, like any alert.
    expect(await unreadCount(db, user.accountId)).toBe(1);
    expect(await runJob(test.id)).toMatchObject({ status: "delivered", attempt: 1, statusCode: 200 });

    const [request] = target.received();
    const event = await stripe.webhooks.constructEventAsync(request!.body, request!.headers.get(SIGNATURE_HEADER)!, rotated.secret!);
    expect(event.type as string).toBe("alert.webhook_test");
    expect(verifySignature(request!.body, request!.headers.get(SIGNATURE_HEADER)!, endpoint.secret!)).toBe(false);
  });

  test("a delivered alert is not sent again when its job runs twice", async () => {
    const { queue } = recordingQueue();
    const target = hook(() => new Response("ok"));
    const { caller } = await ownerWithEndpoint(target.url, queue);
    const test = await caller.webhooks.sendTest();
    await runJob(test.id);
    expect(await runJob(test.id, {}, 1)).toEqual({ status: "skipped" });
    expect(target.received()).toHaveLength(1);
    expect((await onlyDelivery(caller)).attempts).toHaveLength(1);
    await expectTrpcError(caller.webhooks.redeliver({ id: test.id }), "CONFLICT");
  });

  test("a host name is connected to at the address it was checked at, and named in Host", async () => {
    const target = hook(() => new Response("ok"));
    const named = target.url.replace("127.0.0.1", "receiver.test");
    const policy = { allowPrivate: true, resolve: async () => ["127.0.0.1"] };
    const user = await newUser(db);
    await setEndpoint(await contextOf(db, user), { url: named }, policy);
    await notify(db, recordingQueue().queue, user.accountId, budgetAlert(60));
    const [delivery] = (await (await api(user, recordingQueue().queue)).webhooks.deliveries({})).deliveries;
    expect(await attemptDelivery(db, delivery!.id, { policy, timeoutMs: 10_000, lastAttempt: false })).toMatchObject({ status: "delivered" });
    expect(target.received()[0]!.headers.get("host")).toBe(new URL(named).host);
  });

  test("a redirect is a failure, and is not followed", async () => {
    const { queue } = recordingQueue();
    const elsewhere = hook(() => new Response("ok"));
    const target = hook(() => new Response(null, { status: 302, headers: { location: elsewhere.url } }));
    const { caller } = await ownerWithEndpoint(target.url, queue);
    const test = await caller.webhooks.sendTest();
    // Not the last attempt: the handler throws, so pg-boss would retry.
    await expect(runJob(test.id)).rejects.toThrow("redirects are not followed");
    const delivery = await onlyDelivery(caller);
    expect(delivery).toMatchObject({ status: "pending", lastStatusCode: 302 });
    expect(delivery.attempts[0]!.error).toBe(`Redirected to ${elsewhere.url}; redirects are not followed: set the final URL as the endpoint.`);
    expect(elsewhere.received()).toHaveLength(0);
  });

  test("a receiver slower than the timeout fails the attempt", async () => {
    const { queue } = recordingQueue();
    const { promise: released, resolve: release } = Promise.withResolvers<void>();
    const target = hook(async () => {
      await released;
      return new Response("too late");
    });
    try {
      const { caller } = await ownerWithEndpoint(target.url, queue);
      const test = await caller.webhooks.sendTest();
      expect(await runJob(test.id, { WEBHOOK_TIMEOUT_SECONDS: 1, WEBHOOK_MAX_ATTEMPTS: 1 })).toMatchObject({
        status: "failed",
        statusCode: null,
        error: "No answer within 1 s.",
      });
      expect(await onlyDelivery(caller)).toMatchObject({ status: "failed", lastStatusCode: null, lastError: "No answer within 1 s." });
    } finally {
      release();
    }
  });

  test("of a response body that never ends, 2 KiB are logged and the rest is not read", async () => {
    const { queue } = recordingQueue();
    const { promise: released, resolve: release } = Promise.withResolvers<void>();
    let sentBytes = 0;
    // 64 KiB of 'x', then nothing until the test ends: reading on would wait here, past the test's own timeout.
    const target = hook(
      () =>
        new Response(
          new ReadableStream({
            async pull(controller) {
              if (sentBytes >= 64 * 1024) {
                await released;
                return controller.close();
              }
              controller.enqueue(new TextEncoder().encode("x".repeat(16 * 1024)));
              sentBytes += 16 * 1024;
            },
          }),
          { status: 500 },
        ),
    );
    try {
      const { caller } = await ownerWithEndpoint(target.url, queue);
      const test = await caller.webhooks.sendTest();
      // A timeout far beyond the test's: the attempt can only end by stopping at the cap.
      await runJob(test.id, { WEBHOOK_TIMEOUT_SECONDS: 600, WEBHOOK_MAX_ATTEMPTS: 1 });
      const delivery = await onlyDelivery(caller);
      expect(delivery).toMatchObject({ status: "failed", lastStatusCode: 500 });
      expect(delivery.lastError).toBe(`HTTP 500: ${"x".repeat(2048)}`);
    } finally {
      release();
    }
  });

  test("no endpoint, or a disabled one: the alert is listed, nothing is queued or sent", async () => {
    const { queue, sent } = recordingQueue();
    const user = await newUser(db);
    const caller = await api(user, queue);
    expect(await caller.webhooks.get()).toBeNull();
    expect(await notify(db, queue, user.accountId, budgetAlert(50))).not.toBeNull();
    expect((await caller.webhooks.deliveries({})).deliveries).toEqual([]);
    await expectTrpcError(caller.webhooks.sendTest(), "NOT_FOUND");

    const target = hook(() => new Response("ok"));
    const disabled = await caller.webhooks.set({ url: target.url, enabled: false });
    expect(disabled.enabled).toBe(false);
    expect(await notify(db, queue, user.accountId, budgetAlert(75))).not.toBeNull();
    expect((await caller.webhooks.deliveries({})).deliveries).toEqual([]);
    await expectTrpcError(caller.webhooks.sendTest(), "CONFLICT");
    expect(sent).toEqual([]);
    expect(target.received()).toEqual([]);
  });

  test("a new URL keeps the secret; the endpoint can be disabled and removed", async () => {
    const { queue } = recordingQueue();
    const { caller, endpoint } = await ownerWithEndpoint(hook(() => new Response("ok")).url, queue);
    const moved = await caller.webhooks.set({ url: hook(() => new Response("ok")).url });
    expect(moved.secret).toBe(endpoint.secret);
    expect(moved.enabled).toBe(true);
    expect((await caller.webhooks.set({ url: moved.url, enabled: false })).enabled).toBe(false);
    // Omitting `enabled` keeps the setting.
    expect((await caller.webhooks.set({ url: moved.url })).enabled).toBe(false);
    await caller.webhooks.remove();
    expect(await caller.webhooks.get()).toBeNull();
  });

  test("a delivery queued before the endpoint was removed ends failed without being sent", async () => {
    const { queue } = recordingQueue();
    const target = hook(() => new Response("ok"));
    const { caller } = await ownerWithEndpoint(target.url, queue);
    const test = await caller.webhooks.sendTest();
    await caller.webhooks.remove();
    expect(await runJob(test.id)).toMatchObject({ status: "failed", error: "The webhook endpoint was removed before this was sent." });
    expect(target.received()).toEqual([]);
  });

  test("the log pages newest first", async () => {
    const { queue } = recordingQueue();
    const { caller } = await ownerWithEndpoint(hook(() => new Response("ok")).url, queue);
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push((await caller.webhooks.sendTest()).id);
    const first = await caller.webhooks.deliveries({ limit: 2 });
    const second = await caller.webhooks.deliveries({ limit: 2, cursor: first.nextCursor! });
    const third = await caller.webhooks.deliveries({ limit: 2, cursor: second.nextCursor! });
    expect([...first.deliveries, ...second.deliveries, ...third.deliveries].map((d) => d.id)).toEqual(sent.reverse());
    expect(third.nextCursor).toBeNull();
  });
});

describe("URL policy", () => {
  const publicDns = { allowPrivate: false, resolve: async () => ["93.184.216.34"] };

  test("in production, only https to public addresses; each refusal names the url field", async () => {
    const api = await trpc(db, (await newUser(db)).sessionToken);
    const refusals: [string, string][] = [
      ["http://hooks.example.com/alerts", "Webhook URLs must use https."],
      ["https://10.0.0.3/alerts", "10.0.0.3 is a private address"],
      ["https://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address (cloud metadata services live there)"],
      ["https://127.0.0.1:8443/alerts", "127.0.0.1 is a loopback address"],
      ["https://[::1]/alerts", "::1 is a loopback address"],
      ["https://[fd00::1]/alerts", "fd00::1 is a unique-local (private) address"],
      ["https://0.0.0.0/alerts", "0.0.0.0 is an unspecified address"],
      ["https://localhost/alerts", "localhost resolves to"],
      ["https://user:secret@hooks.example.com/alerts", "must not contain a user name or password"],
      [`https://hooks.example.com/${"a".repeat(2048)}`, "at most 2048 characters"],
      ["not a url", "not a valid URL"],
    ];
    for (const [url, message] of refusals) {
      const error = await expectTrpcError(api.webhooks.set({ url }), "BAD_REQUEST");
      expect(error.message).toContain(message);
      expect((error.cause as DomainError).field).toBe("url");
    }
    expect(await api.webhooks.get()).toBeNull();
  });

  test("private URLs are off unless WEBHOOK_ALLOW_PRIVATE_URLS says otherwise", () => {
    expect(loadConfig({}).WEBHOOK_ALLOW_PRIVATE_URLS).toBe(false);
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: "false" }).WEBHOOK_ALLOW_PRIVATE_URLS).toBe(false);
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: "true" }).WEBHOOK_ALLOW_PRIVATE_URLS).toBe(true);
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: "maybe" })).toThrow("WEBHOOK_ALLOW_PRIVATE_URLS");
  });

  test("every address a name resolves to is checked", async () => {
    const resolve = async () => ["93.184.216.34", "10.0.0.3"];
    await expect(checkWebhookUrl("https://api.internal/hook", { allowPrivate: false, resolve })).rejects.toThrow(
      "api.internal resolves to 10.0.0.3, a private address: webhooks are only sent to public addresses.",
    );
    await expect(checkWebhookUrl("https://nowhere.invalid/hook", { allowPrivate: false, resolve: async () => [] })).rejects.toThrow(
      "does not resolve to any address",
    );
    expect((await checkWebhookUrl("https://hooks.example.com/a?b=c", publicDns)).url.href).toBe("https://hooks.example.com/a?b=c");
  });

  test("the address is checked again at each attempt: a name that now resolves inside is not sent to", async () => {
    const user = await newUser(db);
    const ctx = await contextOf(db, user);
    await setEndpoint(ctx, { url: "https://hooks.example.com/alerts" }, publicDns);
    await notify(db, recordingQueue().queue, user.accountId, budgetAlert(90));
    const [delivery] = (await (await api(user, recordingQueue().queue)).webhooks.deliveries({})).deliveries;
    const outcome = await attemptDelivery(db, delivery!.id, {
      policy: { allowPrivate: false, resolve: async () => ["127.0.0.1"] },
      timeoutMs: 5_000,
      lastAttempt: true,
    });
    expect(outcome).toMatchObject({
      status: "failed",
      statusCode: null,
      error: "hooks.example.com resolves to 127.0.0.1, a loopback address: webhooks are only sent to public addresses.",
    });
  });
});

describe("signatures", () => {
  test("Stripe's scheme: a tampered body, another secret or an old timestamp fails", async () => {
    const body = '{"id":"whd_x","type":"alert.budget"}';
    const secret = "whsec_test";
    const header = signatureHeader(body, secret);
    expect((await stripe.webhooks.constructEventAsync(body, header, secret)).id).toBe("whd_x");
    expect(verifySignature(body, header, secret)).toBe(true);
    expect(verifySignature(`${body} `, header, secret)).toBe(false);
    expect(verifySignature(body, header, "whsec_other")).toBe(false);
    const old = signatureHeader(body, secret, Math.floor(Date.now() / 1000) - 600);
    expect(verifySignature(body, old, secret)).toBe(false);
    await expect(stripe.webhooks.constructEventAsync(body, old, secret)).rejects.toThrow("Timestamp outside the tolerance zone");
    // Stripe's own signer and ours agree, byte for byte.
    const timestamp = Math.floor(Date.now() / 1000);
    expect(signatureHeader(body, secret, timestamp)).toBe(await stripeSigned(body, secret, timestamp));
    expect(verifySignature(body, "t=1,v1=zz", secret)).toBe(false);
  });
});

describe("who may do what", () => {
  async function team(jobs: JobQueue) {
    const owner = await newUser(db);
    const member = await newUser(db);
    const invite = await (await trpc(db, owner.sessionToken)).account.createInvite({ role: "member" });
    await (await trpc(db, member.sessionToken)).account.acceptInvite({ token: invite.token });
    return { owner, asOwner: await api(owner, jobs), asMember: await api(member, jobs) };
  }

  test("a member sees the endpoint without its secret and the log, but cannot change or send anything", async () => {
    const { queue } = recordingQueue();
    const { asOwner, asMember } = await team(queue);
    const url = hook(() => new Response("ok")).url;
    await expectTrpcError(asMember.webhooks.set({ url }), "FORBIDDEN");
    const endpoint = await asOwner.webhooks.set({ url });
    expect(endpoint.secret).toStartWith("whsec_");
    expect(await asMember.webhooks.get()).toMatchObject({ url, secret: null });
    const test = await asOwner.webhooks.sendTest();
    expect((await asMember.webhooks.deliveries({})).deliveries.map((d) => d.id)).toEqual([test.id]);
    for (const attempt of [
      asMember.webhooks.rotateSecret(),
      asMember.webhooks.remove(),
      asMember.webhooks.sendTest(),
      asMember.webhooks.redeliver({ id: test.id }),
    ]) {
      await expectTrpcError(attempt, "FORBIDDEN");
    }
  });

  test("another account cannot see or redeliver this account's deliveries", async () => {
    const { queue } = recordingQueue();
    const { caller } = await ownerWithEndpoint(hook(() => new Response("no", { status: 500 })).url, queue);
    const test = await caller.webhooks.sendTest();
    await runJob(test.id, { WEBHOOK_MAX_ATTEMPTS: 1 });
    expect((await onlyDelivery(caller)).status).toBe("failed");

    const stranger = await ownerWithEndpoint(hook(() => new Response("ok")).url, queue);
    expect((await stranger.caller.webhooks.deliveries({})).deliveries).toEqual([]);
    expect((await stranger.caller.webhooks.deliveries({ cursor: test.id })).deliveries).toEqual([]);
    const error = await expectTrpcError(stranger.caller.webhooks.redeliver({ id: test.id }), "NOT_FOUND");
    expect(error.message).toBe(`Webhook delivery '${test.id}' was not found.`);
    // The owner's own redelivery of it still works.
    expect((await caller.webhooks.redeliver({ id: test.id })).status).toBe("pending");
  });
});

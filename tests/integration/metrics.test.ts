/**
 * GET /metrics as an operator scrapes it: the api listening on a port, real calls through /v1, tRPC and the
 * agents' route, a billing tick and a schedule pass, then Prometheus's text format read back line by line.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { instanceRuns, scheduleRules } from "../../db/schema";
import { createApp } from "../../server/app";
import { sha256Hex } from "../../src/auth/secrets";
import { postEntry } from "../../src/billing/ledger";
import { loadConfig } from "../../src/config";
import { newId, randomBase62 } from "../../src/ids";
import { HeartbeatBatcher } from "../../src/instances/heartbeats";
import { createQueue } from "../../src/jobs/queue";
import { billingTick } from "../../src/metering/tick";
import { routeGroups } from "../../src/platform/metrics";
import { serveMetrics } from "../../src/platform/metrics-listener";
import { fireDueRules } from "../../src/schedules/fire";
import { freePort } from "../support/cluster";
import { freshDatabase } from "../support/db";
import { insertInstanceRow, newApiKey, newUser } from "../support/factories";

const OPERATOR_TOKEN = `op_${randomBase62(40)}`;
// Closed by this file once the app and the batcher are done with it.
const database = await freshDatabase({ closeAfterAll: false });
const { db } = database;
const port = await freePort();
const config = loadConfig({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, QDZ_DATA_DIR: ".data/test", OPERATOR_TOKEN });

// pg-boss as the api holds it (send-only), with the queues the workers would have made.
const boss = createQueue(database.url, { sendOnly: true });
await boss.start();
for (const name of ["billing.tick", "schedules.fire"]) await boss.createQueue(name);

// A runtime that answers every chat completion after 20 ms.
const runtime = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: async () => {
    await Bun.sleep(20);
    return Response.json({ id: "chatcmpl-1", object: "chat.completion", created: 1, model: "m", choices: [] });
  },
});

const heartbeats = new HeartbeatBatcher(db);
const app = createApp({ db, config, heartbeats, boss }).listen({ port, hostname: "127.0.0.1" });
const base = `http://127.0.0.1:${port}`;

afterAll(async () => {
  await app.server?.stop(true);
  runtime.stop(true);
  await heartbeats.stop();
  await boss.stop({ graceful: false });
  await database.close();
});

// An account with a key, an instance serving `chat` from the runtime above (running 40 s at 36 €/h: 1 cent a
// second), and an instance whose run failed 30 s in: the tick settles that one and refunds it in full.
const user = await newUser(db);
const { secret: apiKey } = await newApiKey(db, user);
await postEntry(db, { accountId: user.accountId, kind: "topup", amountCents: 100_000, reference: `cs_${user.accountId}` });
const agentToken = `qdza_${randomBase62(43)}`;
const served = await servedInstance();
const failedRun = await failedEarlyRun();

async function servedInstance() {
  const instanceId = newId("instance");
  const runId = newId("run");
  await insertInstanceRow(db, {
    id: instanceId,
    accountId: user.accountId,
    servingName: "chat",
    providerId: "local",
    rateCentsPerHour: 3600,
    currentRunId: runId,
  });
  await db.insert(instanceRuns).values({
    id: runId,
    instanceId,
    number: 1,
    providerId: "local",
    rateCentsPerHour: 3600,
    runtimeUrl: runtime.url.href,
    agentTokenHash: sha256Hex(agentToken),
    runningAt: sql`now() - interval '40 seconds'`,
    lastHeartbeatAt: sql`now()`,
  });
  return { instanceId, runId };
}

async function failedEarlyRun() {
  const instanceId = newId("instance");
  const runId = newId("run");
  await insertInstanceRow(db, { id: instanceId, accountId: user.accountId, state: "failed", providerId: "local", rateCentsPerHour: 3600, currentRunId: runId });
  await db.insert(instanceRuns).values({
    id: runId,
    instanceId,
    number: 1,
    providerId: "local",
    rateCentsPerHour: 3600,
    runningAt: sql`now() - interval '40 seconds'`,
    lastHeartbeatAt: sql`now() - interval '10 seconds'`,
    endedAt: sql`now() - interval '10 seconds'`,
    endedBecause: "failed",
  });
  return runId;
}

/** One sample: a metric name, its labels, its value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

// Values as Prometheus reads them (Go's ParseFloat): NaN in any case, as prom-client writes an empty event-loop reading ("Nan").
const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.]+(?:e[+-]?[0-9]+)?|[Nn][Aa][Nn]|[+-]Inf)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Prometheus's text format, strictly: every line a HELP, a TYPE or a sample; throws on anything else. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line)) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`not Prometheus text format: ${JSON.stringify(line)}`);
    const labels = Object.fromEntries([...(match[2] ?? "").matchAll(LABEL)].map(([, key, value]) => [key!, value!]));
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(url = `${base}/metrics`): Promise<{ text: string; samples: Sample[] }> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  const text = await response.text();
  return { text, samples: parseExposition(text) };
}

/** The sum of a metric's samples whose labels include `labels`; 0 when it has none yet. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

async function ledgerCents(kind: "debit" | "refund"): Promise<number> {
  const [row] = await db.execute<{ cents: string }>(
    sql`select coalesce(abs(sum(amount_cents)), 0)::text as cents from ledger_entries where account_id = ${user.accountId} and kind = ${kind}`,
  );
  return Number(row!.cents);
}

const chat = (key = apiKey) =>
  fetch(`${base}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "chat", messages: [{ role: "user", content: "hi" }] }),
  });

describe("access", () => {
  test("without the operator token, or with a wrong one, it is 401 and shows nothing", async () => {
    for (const authorization of [undefined, `Bearer ${OPERATOR_TOKEN}x`, `Bearer ${apiKey}`, `Basic ${btoa(`op:${OPERATOR_TOKEN}`)}`, OPERATOR_TOKEN]) {
      const response = await fetch(`${base}/metrics`, { headers: authorization ? { authorization } : {} });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toStartWith("Bearer");
      expect(response.headers.get("x-request-id")).toMatch(/^req_/);
      expect(await response.text()).not.toContain("qdz_");
    }
  });

  test("with OPERATOR_TOKEN unset, /metrics does not exist: 404, token or not", async () => {
    const closed = createApp({ db, config: { ...config, OPERATOR_TOKEN: undefined } });
    for (const headers of [{}, { authorization: `Bearer ${OPERATOR_TOKEN}` }] as Record<string, string>[]) {
      const response = await closed.handle(new Request(`${base}/metrics`, { headers }));
      expect(response.status).toBe(404);
      expect(await response.text()).not.toContain("qdz_");
    }
  });

  test("the token must be at least 32 characters", () => {
    expect(() => loadConfig({ OPERATOR_TOKEN: "short-token" })).toThrow(/OPERATOR_TOKEN: use at least 32 characters/);
  });
});

describe("a live platform's numbers", () => {
  test("requests, /v1, heartbeats, the tick, refunds, schedules, caches and the database gauges move as they happened", async () => {
    const before = (await scrape()).samples;
    const debitedBefore = await ledgerCents("debit");

    // /v1: two completions (the key and the route cached by the second), a model list, and a bad key.
    for (let i = 0; i < 2; i++) expect((await chat()).status).toBe(200);
    expect((await fetch(`${base}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` } })).status).toBe(200);
    expect((await chat(`qdz_${randomBase62(43)}`)).status).toBe(401);
    // tRPC, with the user's session as a bearer credential.
    const listed = await fetch(`${base}/trpc/apiKeys.list`, { headers: { authorization: `Bearer ${user.sessionToken}` } });
    expect(listed.status).toBe(200);
    // Three heartbeats from the served instance's agent.
    for (let i = 0; i < 3; i++) {
      const beat = await fetch(`${base}/agent/heartbeat`, {
        method: "POST",
        headers: { authorization: `Bearer ${agentToken}`, "content-type": "application/json" },
        body: JSON.stringify({ runId: served.runId, at: new Date().toISOString(), workload: { state: "ready" } }),
      });
      expect(beat.status).toBe(200);
    }
    // A billing tick: bills the served run's 40 s, settles and refunds the failed one.
    const tick = await billingTick(db);
    expect(tick.settled).toBe(1);
    const debited = (await ledgerCents("debit")) - debitedBefore;
    const refunded = await ledgerCents("refund");
    expect(refunded).toBeGreaterThanOrEqual(29);
    // A schedule pass over one due rule, whose action is skipped.
    await db.insert(scheduleRules).values({
      id: newId("scheduleRule"),
      accountId: user.accountId,
      instanceId: served.instanceId,
      action: "start",
      cron: "0 9 * * *",
      timeZone: "UTC",
      nextRunAt: sql`now() - interval '1 second'`,
    });
    const fired = await fireDueRules(db, async () => ({ outcome: "skipped", detail: "already running" }), { catchUpSeconds: 600 });
    expect(fired.skipped).toBe(1);

    const { text, samples: after } = await scrape();
    const moved = (name: string, labels: Record<string, string> = {}) => total(after, name, labels) - total(before, name, labels);

    expect(moved("qdz_http_requests_total", { group: "v1", method: "POST", status: "200" })).toBe(2);
    expect(moved("qdz_http_requests_total", { group: "v1", method: "POST", status: "401" })).toBe(1);
    expect(moved("qdz_http_requests_total", { group: "v1", method: "GET", status: "200" })).toBe(1);
    expect(moved("qdz_http_requests_total", { group: "trpc", method: "GET", status: "200" })).toBe(1);
    expect(moved("qdz_http_requests_total", { group: "agent", method: "POST", status: "200" })).toBe(3);
    // The first scrape was served before the second was counted: exactly one so far.
    expect(moved("qdz_http_requests_total", { group: "metrics" })).toBe(1);
    expect(moved("qdz_http_request_duration_seconds_count", { group: "v1" })).toBe(4);
    expect(moved("qdz_http_request_duration_seconds_count", { group: "trpc" })).toBe(1);
    // Each completion waited at least the runtime's 20 ms.
    expect(moved("qdz_http_request_duration_seconds_sum", { group: "v1" })).toBeGreaterThan(0.04);

    expect(moved("qdz_v1_requests_total", { endpoint: "chat/completions", status: "200" })).toBe(2);
    expect(moved("qdz_v1_requests_total", { endpoint: "chat/completions", status: "401" })).toBe(1);
    expect(moved("qdz_v1_requests_total", { endpoint: "models", status: "200" })).toBe(1);
    expect(moved("qdz_v1_upstream_duration_seconds_count", { endpoint: "chat/completions" })).toBe(2);
    expect(moved("qdz_v1_upstream_duration_seconds_sum", { endpoint: "chat/completions" })).toBeGreaterThan(0.04);
    expect(moved("qdz_v1_upstream_duration_seconds_bucket", { endpoint: "chat/completions", le: "0.01" })).toBe(0);

    expect(moved("qdz_heartbeats_received_total")).toBe(3);

    expect(moved("qdz_billing_tick_duration_seconds_count")).toBe(1);
    expect(moved("qdz_billing_runs_billed_total")).toBe(tick.runsBilled);
    expect(tick.runsBilled).toBe(1);
    // Everything the ledger debited (the live run's tick and the failed run's settlement), and the refund.
    expect(debited).toBeGreaterThanOrEqual(29 + 39);
    expect(moved("qdz_billing_debited_cents_total")).toBe(debited);
    expect(moved("qdz_billing_refunded_cents_total")).toBe(refunded);

    expect(moved("qdz_schedule_executions_total", { outcome: "skipped" })).toBe(1);
    expect(moved("qdz_schedule_executions_total", { outcome: "failed" })).toBe(0);

    // The bad key missed, the first good call missed and loaded, the second and the model list hit.
    expect(moved("qdz_cache_lookups_total", { cache: "api_keys", result: "miss" })).toBe(2);
    expect(moved("qdz_cache_lookups_total", { cache: "api_keys", result: "hit" })).toBe(2);
    expect(moved("qdz_cache_lookups_total", { cache: "routes", result: "miss" })).toBe(1);
    expect(moved("qdz_cache_lookups_total", { cache: "routes", result: "hit" })).toBe(1);
    expect(moved("qdz_cache_lookups_total", { cache: "agent_tokens", result: "miss" })).toBe(1);
    expect(moved("qdz_cache_lookups_total", { cache: "agent_tokens", result: "hit" })).toBe(2);

    // Read from the database at scrape time: the served instance is running on the local provider; the failed one holds no pod.
    expect(total(after, "qdz_instances", { provider: "local", state: "running" })).toBe(1);
    expect(total(after, "qdz_instances", { state: "failed" })).toBe(0);
    for (const state of ["queued", "deferred", "active", "failed"]) {
      expect(after.some((s) => s.name === "qdz_queue_jobs" && s.labels.queue === "billing.tick" && s.labels.state === state)).toBe(true);
    }
    // The process's own, from prom-client's default collectors (less the heap walk, too slow under Bun).
    expect(total(after, "process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(total(after, "process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(text).not.toContain("nodejs_heap_space_size_used_bytes");

    // No label carries a path, an id of this account's, or a secret; route groups come from the fixed set.
    const forbidden = [
      user.accountId,
      served.instanceId,
      served.runId,
      failedRun,
      apiKey,
      user.sessionToken,
      agentToken,
      OPERATOR_TOKEN,
      "/v1",
      "/trpc",
      "/agent",
    ];
    for (const sample of after) {
      for (const value of Object.values(sample.labels)) {
        for (const secretOrId of forbidden) expect(value).not.toContain(secretOrId);
        expect(value).not.toStartWith("/");
      }
      if (sample.labels.group !== undefined) expect(routeGroups).toContain(sample.labels.group as (typeof routeGroups)[number]);
    }
    for (const secretOrId of [user.accountId, apiKey, user.sessionToken, agentToken, OPERATOR_TOKEN]) expect(text).not.toContain(secretOrId);
  });

  test("a path nobody routes is counted under its group, not its path", async () => {
    const before = (await scrape()).samples;
    const path = `/v1/${randomBase62(12)}/secret-looking-path`;
    expect((await fetch(`${base}${path}`, { method: "POST", headers: { authorization: `Bearer ${apiKey}` } })).status).toBe(404);
    const { text, samples: after } = await scrape();
    expect(
      total(after, "qdz_v1_requests_total", { endpoint: "unknown", status: "404" }) -
        total(before, "qdz_v1_requests_total", { endpoint: "unknown", status: "404" }),
    ).toBe(1);
    expect(text).not.toContain("secret-looking-path");
  });
});

describe("the workers' listener", () => {
  test("serves the worker process's own metrics behind the same token, without the api's database gauges", async () => {
    const workerPort = await freePort();
    // The second worker replica listens one port above WORKERS_METRICS_PORT.
    const server = serveMetrics({ basePort: workerPort - 1, replica: 2, host: "127.0.0.1", operatorToken: OPERATOR_TOKEN, name: "workers" })!;
    try {
      const url = `http://127.0.0.1:${workerPort}/metrics`;
      expect((await fetch(url)).status).toBe(401);
      const before = (await scrape(url)).samples;
      await billingTick(db);
      const { samples: after } = await scrape(url);
      expect(total(after, "qdz_billing_tick_duration_seconds_count") - total(before, "qdz_billing_tick_duration_seconds_count")).toBe(1);
      expect(after.some((s) => s.name === "qdz_queue_jobs" || s.name === "qdz_instances")).toBe(false);
      expect((await fetch(`http://127.0.0.1:${workerPort}/other`)).status).toBe(404);
    } finally {
      server.stop(true);
    }
    expect(serveMetrics({ basePort: undefined, replica: 1, host: "127.0.0.1", operatorToken: OPERATOR_TOKEN, name: "workers" })).toBeNull();
  });
});

/**
 * `bun run bench:proxy`: the /v1 proxy measured against a deterministic mock
 * upstream, next to the same requests sent to the mock directly and through
 * Portkey's open-source gateway, in one run on this machine.
 *
 * Processes (all on 127.0.0.1): an embedded PostgreSQL under .data/bench-<pid>
 * (deleted at the end), the mock upstream (mock-upstream.ts), the real api
 * (`bun server/api.ts`, auth on: a Bearer API key looked up through its cache,
 * the serving name resolved to a running instance whose current run points at
 * the mock), Portkey's gateway under Node, and one load-generator process per
 * measured run (load.ts). Targets are interleaved (the order rotates every
 * round) so a machine getting busier or quieter during the run is shared out.
 *
 * Writes the Markdown results to tests/bench/proxy-results.md (or the path
 * given as argv[2]) and prints them.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { connect, type DatabaseHandle } from "../../../db/client";
import { instanceEvents, instanceRuns, instances } from "../../../db/schema";
import { signUp } from "../../../src/accounts/signup";
import { createApiKey } from "../../../src/api-keys/keys";
import { projectRoot } from "../../../src/config";
import { attachFirewall } from "../../../src/firewall/attach";
import { createFirewall } from "../../../src/firewall/create";
import { newId, randomBase62 } from "../../../src/ids";
import { ensureDatabase } from "../../../src/platform/embedded-database";
import { type RunningPostgres, startEmbeddedPostgres } from "../../../src/platform/embedded-postgres";
import { prepareDatabase } from "../../../src/platform/prepare-database";
import { benchPricing, benchRuntime } from "../fixtures";
import { cpuMsOf, freePort } from "../processes";
import { limiterPhase, limiterSection } from "./limiter";
import type { LatencyResult, LoadSpec, StreamOutcome, StreamsResult, Target } from "./load";
import { FRAME_MS, FRAMES } from "./shape";

// ---- Plan (bounded: the whole run takes a few minutes) -----------------------
/** BENCH_QUICK=1: one short round and a short ramp, to check the harness (numbers not worth quoting). */
const QUICK = process.env.BENCH_QUICK === "1";
/** BENCH_CONCURRENCIES=16 narrows the levels (a diagnostic). */
const CONCURRENCIES = process.env.BENCH_CONCURRENCIES ? process.env.BENCH_CONCURRENCIES.split(",").map(Number) : [1, 16, 64];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const LATENCY_WARMUP_MS = 300;
const LATENCY_WINDOW_MS = QUICK ? 500 : 1500;
const STREAMS_PER_WORKER: Record<number, number> = QUICK ? { 1: 1, 16: 1, 64: 1 } : { 1: 3, 16: 2, 64: 1 };
/** BENCH_RAMP=512,1024 replaces the ramp's levels (a diagnostic; the committed table uses the default). */
const RAMP = process.env.BENCH_RAMP ? process.env.BENCH_RAMP.split(",").map(Number) : QUICK ? [64, 128] : [64, 128, 256, 512, 1024, 2048];
const RAMP_DEADLINE_MS = 150_000;
/** Diagnostics (the committed table uses neither): BENCH_PHASES=latency,streams,ramp picks phases; BENCH_TARGETS=direct,qdz proxy picks targets. */
const PHASES = new Set((process.env.BENCH_PHASES ?? "latency,streams,ramp,limiter").split(","));
const TARGETS = process.env.BENCH_TARGETS ? new Set(process.env.BENCH_TARGETS.split(",")) : null;
/** BENCH_API_PROFILE=<dir>: the api writes a CPU profile (Markdown, `--cpu-prof-md`) there when it exits. */
const API_PROFILE_DIR = process.env.BENCH_API_PROFILE;
/** A gap between two frames longer than this is a stall (the upstream sends one every FRAME_MS). */
const STALL_MS = 250;
const STREAM_TIMEOUT_MS = 30_000;

const SERVING_NAME = "bench";
/** The bare Bun proxy (bare-proxy.ts): what Bun's own HTTP server and client cost, the floor under any Bun proxy. */
const FLOOR = "bun floor";
const resultsPath = process.argv[2] ?? join(projectRoot, QUICK ? `.data/bench-quick-results.md` : "tests/bench/proxy-results.md");
const dataDir = join(projectRoot, `.data/bench-${process.pid}`);
const bunBin = process.execPath;
const portkeyEntry = join(projectRoot, "node_modules/@portkey-ai/gateway/build/start-server.js");

const log = (line: string) => console.error(`[bench:proxy] ${line}`);

// ---- Processes and cleanup ----------------------------------------------------
const children: { name: string; proc: Subprocess }[] = [];
let postgres: RunningPostgres | undefined;
let database: DatabaseHandle | undefined;
let cleaned = false;

async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const { proc } of children.reverse()) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
  }
  await Promise.race([Promise.all(children.map(({ proc }) => proc.exited)), Bun.sleep(5000)]);
  for (const { proc } of children) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  }
  await database?.close().catch(() => {});
  await postgres?.stop().catch((error) => log(`stopping PostgreSQL: ${error}`));
  rmSync(dataDir, { recursive: true, force: true });
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** The api's limit on upstream fetches in flight, as the supervisor sets it. */
const API_MAX_HTTP_REQUESTS = process.env.BUN_CONFIG_MAX_HTTP_REQUESTS ?? "4096";

function spawnChild(name: string, cmd: string[], env: Record<string, string | undefined> = {}, stdout: "pipe" | "log" = "log") {
  const logFile = join(dataDir, `${name}.log`);
  const proc = Bun.spawn(cmd, {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdin: "ignore",
    stdout: stdout === "pipe" ? "pipe" : Bun.file(logFile),
    stderr: Bun.file(join(dataDir, `${name}.err.log`)),
  });
  children.push({ name, proc });
  return proc;
}

function tailOf(name: string): string {
  const parts = [`${name}.log`, `${name}.err.log`].map((f) => join(dataDir, f)).filter(existsSync);
  return parts.map((f) => readFileSync(f, "utf8").slice(-2000)).join("\n");
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await Bun.sleep(100);
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms`);
}

// ---- Measurement helpers ------------------------------------------------------
async function runLoad<R>(spec: LoadSpec): Promise<{ result: R; cpuMs: Record<string, number> }> {
  const watched = children.filter((c) => ["mock", "api", "floor", "portkey", "portkey-bun"].includes(c.name));
  const before = Object.fromEntries(watched.map((c) => [c.name, cpuMsOf(c.proc.pid)]));
  const proc = Bun.spawn([bunBin, join(import.meta.dir, "load.ts"), JSON.stringify(spec)], {
    cwd: projectRoot,
    // Bun's fetch holds 256 connections at most by default; the client must never be what caps a run.
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: "65535" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`load generator failed (exit ${code}): ${err.slice(-2000)}`);
  const cpuMs = Object.fromEntries(watched.map((c) => [c.name, cpuMsOf(c.proc.pid) - before[c.name]!]));
  return { result: JSON.parse(out) as R, cpuMs };
}

const sortNum = (values: number[]) => Float64Array.from(values).sort();
function pct(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const rotate = <T>(items: T[], by: number) => items.map((_, i) => items[(i + by) % items.length]!);
const ms = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "–");
const signed = (value: number, digits = 2) => (Number.isFinite(value) ? `${value >= 0 ? "+" : ""}${value.toFixed(digits)}` : "–");

// ---- Setup ----------------------------------------------------------------------
async function setUp() {
  const pgPort = freePort();
  log(`embedded PostgreSQL on 127.0.0.1:${pgPort} in ${dataDir}`);
  postgres = await startEmbeddedPostgres({ dir: dataDir, port: pgPort, persistent: false });
  // As `npm start` does: migrated by the owner, served (and seeded here) as the app role.
  const access = await ensureDatabase(postgres, "qdz_bench");
  const migrator = connect(access.ownerUrl, { max: 1 });
  await prepareDatabase(migrator.db, access).finally(() => migrator.close());
  const databaseUrl = access.appUrl;
  database = connect(databaseUrl, { max: 2 });

  const mockUrl = await announcedUrl(spawnChild("mock", [bunBin, join(import.meta.dir, "mock-upstream.ts")], {}, "pipe"));
  log(`mock upstream at ${mockUrl}`);
  const floorUrl = await announcedUrl(spawnChild("floor", [bunBin, join(import.meta.dir, "bare-proxy.ts"), mockUrl], {}, "pipe"));

  const user = await signUp(database.db, { email: `bench-${randomBase62(8).toLowerCase()}@example.com`, password: `pw-${randomBase62(16)}` });
  const { secret } = await createApiKey(
    { db: database.db, accountId: user.accountId, role: "owner", actor: { kind: "user", userId: user.userId, sessionId: "bench" } },
    { name: "bench" },
  );
  // A running instance as placement and the agent would leave it; the proxy reads state, serving name, current run and its runtime URL.
  const instanceId = newId("instance");
  const runId = newId("run");
  const pricingSnapshot = benchPricing();
  const runtimeConfig = benchRuntime;
  await database.db.transaction(async (tx) => {
    await tx.insert(instances).values({
      id: instanceId,
      accountId: user.accountId,
      name: "bench",
      servingName: SERVING_NAME,
      state: "running",
      hfRepo: "bench/bench",
      task: "chat",
      modelClass: "llm",
      gpuPreferences: ["L4"],
      gpuCount: 1,
      tier: "secure",
      contextLength: 4096,
      pricingSnapshot,
      runtimeConfig,
      providerId: "local",
      region: "local",
      gpuType: "L4",
      rateCentsPerHour: 80,
      currentRunId: runId,
    });
    await tx.insert(instanceEvents).values({ instanceId, fromState: null, toState: "running", cause: "bench" });
    await tx.insert(instanceRuns).values({
      id: runId,
      instanceId,
      number: 1,
      providerId: "local",
      region: "local",
      gpuType: "L4",
      rateCentsPerHour: 80,
      runtimeUrl: mockUrl,
      runningAt: new Date(),
    });
  });
  // Auth and a firewall on, as the issue asks: representative rules that every prompt is screened with (none fires).
  const owner = {
    db: database.db,
    accountId: user.accountId,
    role: "owner" as const,
    actor: { kind: "user" as const, userId: user.userId, sessionId: "bench" },
  };
  const firewall = await createFirewall(owner, {
    name: "bench",
    rules: [
      { id: "injection", kind: "prompt_injection", action: "block", options: {} },
      { id: "secrets", kind: "secrets", action: "redact", options: {} },
      { id: "pii", kind: "pii", action: "flag", options: { categories: ["emails", "phones", "ibans", "cards"] } },
      { id: "length", kind: "length_limit", action: "block", options: { maxChars: 100_000 } },
    ],
    storePromptText: false,
  });
  await attachFirewall(owner, { instanceId, firewallId: firewall.id });

  const apiPort = freePort();
  const profile = API_PROFILE_DIR ? ["--cpu-prof-md", `--cpu-prof-dir=${API_PROFILE_DIR}`, "--cpu-prof-interval=100"] : [];
  spawnChild("api", [bunBin, ...profile, "server/api.ts"], {
    DATABASE_URL: databaseUrl,
    PORT: String(apiPort),
    HOST: "127.0.0.1",
    V1_RATE_LIMIT_PER_MINUTE: "1000000000",
    LOG_LEVEL: "warn",
    QDZ_SUPERVISED: "1", // exits if this process dies
    // As `npm start` runs the api (server/supervisor.ts): more than Bun's default 256 upstream fetches at once.
    BUN_CONFIG_MAX_HTTP_REQUESTS: API_MAX_HTTP_REQUESTS,
  });
  const apiUrl = `http://127.0.0.1:${apiPort}`;

  const portkeyPort = freePort();
  const portkey =
    existsSync(portkeyEntry) && (!TARGETS || TARGETS.has("portkey"))
      ? spawnChild("portkey", ["node", portkeyEntry, `--port=${portkeyPort}`, "--headless"])
      : undefined;
  const portkeyUrl = `http://127.0.0.1:${portkeyPort}`;
  // Portkey 1.15 under Node answers every stream with a 500 ("TypeError: immutable" in its updateHeaders, on
  // @hono/node-server's Response wrapping the upstream fetch's immutable headers; Portkey-AI/gateway#1550, #1389).
  // The same build under Bun streams, so it stands in as the streaming peer, labelled as such.
  const portkeyBunPort = freePort();
  const portkeyBun = portkey ? spawnChild("portkey-bun", [bunBin, portkeyEntry, `--port=${portkeyBunPort}`, "--headless"]) : undefined;
  const portkeyBunUrl = `http://127.0.0.1:${portkeyBunPort}`;

  const jsonBody = JSON.stringify({ model: SERVING_NAME, messages: [{ role: "user", content: "Say hello." }], max_tokens: 16 });
  const streamBody = JSON.stringify({ model: SERVING_NAME, messages: [{ role: "user", content: "Say hello." }], max_tokens: 16, stream: true });
  const json = { "content-type": "application/json" };
  const portkeyHeaders = { ...json, authorization: "Bearer sk-bench-not-a-real-key", "x-portkey-provider": "openai", "x-portkey-custom-host": `${mockUrl}/v1` };
  const targets = (body: string, streaming = false): Target[] => allTargets(body, streaming).filter((t) => !TARGETS || TARGETS.has(t.name));
  const allTargets = (body: string, streaming: boolean): Target[] => [
    { name: "direct", url: `${mockUrl}/v1/chat/completions`, headers: json, body },
    // The floor is a reference for the latency table only; streaming through it says nothing the direct row does not.
    ...(streaming ? [] : [{ name: FLOOR, url: `${floorUrl}/v1/chat/completions`, headers: json, body }]),
    { name: "qdz proxy", url: `${apiUrl}/v1/chat/completions`, headers: { ...json, authorization: `Bearer ${secret}` }, body },
    ...(portkey
      ? [
          { name: "portkey", url: `${portkeyUrl}/v1/chat/completions`, headers: portkeyHeaders, body },
          ...(streaming && portkeyBun ? [{ name: "portkey (bun)", url: `${portkeyBunUrl}/v1/chat/completions`, headers: portkeyHeaders, body }] : []),
        ]
      : []),
  ];

  // Every target must answer the mock's completion before anything is measured.
  const everyTarget = new Map([...targets(jsonBody), ...targets(jsonBody, true)].map((t) => [t.name, t]));
  for (const target of everyTarget.values()) {
    await waitUntil(
      target.name,
      async () => {
        const response = await fetch(target.url, { method: "POST", headers: target.headers, body: target.body });
        const body = (await response.json()) as { choices?: { message?: { content?: string } }[] };
        return response.status === 200 && body.choices?.[0]?.message?.content === "Hello from the benchmark upstream.";
      },
      60_000,
    ).catch((error) => {
      throw new Error(`${error.message}\n${tailOf(processOf(target.name))}`);
    });
  }
  log(`api at ${apiUrl}, portkey at ${portkey ? portkeyUrl : "(not installed)"}: all answering`);
  return {
    latencyTargets: targets(jsonBody),
    streamTargets: targets(streamBody, true),
    portkeyVersion: portkey ? packageVersion("@portkey-ai/gateway") : null,
    databaseUrl,
  };
}

/** The child process behind a target's name. */
const processOf = (target: string) => ({ "qdz proxy": "api", "portkey (bun)": "portkey-bun", [FLOOR]: "floor" })[target] ?? target;

/** The URL a child prints as `{"port": N}` on its first stdout line once listening. */
async function announcedUrl(child: Subprocess): Promise<string> {
  const reader = (child.stdout as ReadableStream<Uint8Array>).getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  reader.releaseLock();
  return `http://127.0.0.1:${(JSON.parse(first.split("\n")[0]!) as { port: number }).port}`;
}

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(join(projectRoot, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
}

// ---- Phases -----------------------------------------------------------------------
interface LatencyRow {
  target: string;
  concurrency: number;
  p50: number;
  p99: number;
  rps: number;
  errors: number;
  firstError: string | null;
  cpuUsPerRequest: Record<string, number>;
}

async function latencyPhase(targets: Target[]): Promise<LatencyRow[]> {
  const rows: LatencyRow[] = [];
  for (const concurrency of CONCURRENCIES) {
    const merged = new Map<
      string,
      { samples: number[]; windowMs: number; errors: number; firstError: string | null; cpu: Record<string, number>; total: number }
    >();
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of rotate(targets, round)) {
        const { result, cpuMs } = await runLoad<LatencyResult>({
          mode: "latency",
          target,
          concurrency,
          warmupMs: LATENCY_WARMUP_MS,
          durationMs: LATENCY_WINDOW_MS,
        });
        if (process.env.BENCH_VERBOSE)
          log(`  round ${round} ${target.name}: ${Math.round(result.samples.length / (result.windowMs / 1000))} rps, cpu ${JSON.stringify(cpuMs)}`);
        const entry = merged.get(target.name) ?? { samples: [], windowMs: 0, errors: 0, firstError: null, cpu: {}, total: 0 };
        entry.samples.push(...result.samples);
        entry.windowMs += result.windowMs;
        entry.errors += result.errors;
        entry.firstError ??= result.firstError;
        // Requests in the warm-up cost CPU too: count them at the measured rate.
        entry.total += result.count * ((LATENCY_WARMUP_MS + LATENCY_WINDOW_MS) / LATENCY_WINDOW_MS);
        for (const [name, value] of Object.entries(cpuMs)) entry.cpu[name] = (entry.cpu[name] ?? 0) + value;
        merged.set(target.name, entry);
      }
    }
    for (const target of targets) {
      const entry = merged.get(target.name)!;
      const sorted = sortNum(entry.samples);
      rows.push({
        target: target.name,
        concurrency,
        p50: pct(sorted, 50),
        p99: pct(sorted, 99),
        rps: entry.samples.length / (entry.windowMs / 1000),
        errors: entry.errors,
        firstError: entry.firstError,
        cpuUsPerRequest: Object.fromEntries(Object.entries(entry.cpu).map(([name, value]) => [name, (value * 1000) / Math.max(1, entry.total)])),
      });
      log(
        `latency c=${concurrency} ${target.name}: p50 ${ms(pct(sorted, 50), 3)} ms, p99 ${ms(pct(sorted, 99), 3)} ms, ${Math.round(rows.at(-1)!.rps)} rps, ${entry.errors} errors`,
      );
    }
  }
  return rows;
}

interface StreamRow {
  target: string;
  concurrency: number;
  streams: number;
  failed: number;
  firstError: string | null;
  ttftP50: number;
  ttftP99: number;
  gapP50: number;
  gapP99: number;
  gapMax: number;
}

function summariseStreams(target: string, concurrency: number, outcomes: StreamOutcome[]): StreamRow {
  const ttft = sortNum(outcomes.flatMap((o) => (o.ttftMs === null ? [] : [o.ttftMs])));
  const gaps = sortNum(outcomes.flatMap((o) => o.gapsMs));
  return {
    target,
    concurrency,
    streams: outcomes.length,
    failed: outcomes.filter((o) => !o.ok).length,
    firstError: outcomes.find((o) => o.error)?.error ?? null,
    ttftP50: pct(ttft, 50),
    ttftP99: pct(ttft, 99),
    gapP50: pct(gaps, 50),
    gapP99: pct(gaps, 99),
    gapMax: gaps.length ? gaps[gaps.length - 1]! : Number.NaN,
  };
}

async function streamPhase(targets: Target[]): Promise<StreamRow[]> {
  const rows: StreamRow[] = [];
  for (const target of targets) await runLoad<StreamsResult>({ mode: "streams", target, concurrency: 4, perWorker: 1, timeoutMs: STREAM_TIMEOUT_MS }); // warm-up
  for (const concurrency of CONCURRENCIES) {
    const merged = new Map<string, StreamOutcome[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of rotate(targets, round)) {
        const { result } = await runLoad<StreamsResult>({
          mode: "streams",
          target,
          concurrency,
          perWorker: STREAMS_PER_WORKER[concurrency]!,
          timeoutMs: STREAM_TIMEOUT_MS,
        });
        merged.set(target.name, [...(merged.get(target.name) ?? []), ...result.streams]);
      }
    }
    for (const target of targets) {
      const row = summariseStreams(target.name, concurrency, merged.get(target.name)!);
      rows.push(row);
      log(
        `streams c=${concurrency} ${target.name}: ttft p50 ${ms(row.ttftP50, 3)} ms, gap p99 ${ms(row.gapP99)} ms, max ${ms(row.gapMax)} ms, ${row.failed}/${row.streams} failed`,
      );
    }
  }
  return rows;
}

interface RampStep {
  target: string;
  streams: number;
  held: boolean;
  why: string;
  row: StreamRow;
  /** Last first frame vs earliest last frame: all streams were open at once when the first is earlier. */
  overlapMs: number;
}

async function rampPhase(targets: Target[]): Promise<{ steps: RampStep[]; stoppedByDeadline: boolean }> {
  const steps: RampStep[] = [];
  const active = new Set(targets.map((t) => t.name));
  const deadline = Date.now() + RAMP_DEADLINE_MS;
  let stoppedByDeadline = false;
  for (const [level, streams] of RAMP.entries()) {
    for (const target of rotate(targets, level)) {
      if (!active.has(target.name)) continue;
      if (Date.now() > deadline) {
        stoppedByDeadline = true;
        break;
      }
      const { result } = await runLoad<StreamsResult>({ mode: "streams", target, concurrency: streams, perWorker: 1, timeoutMs: STREAM_TIMEOUT_MS });
      const row = summariseStreams(target.name, streams, result.streams);
      const lastFirst = Math.max(...result.streams.map((o) => o.firstAt ?? Number.POSITIVE_INFINITY));
      const earliestLast = Math.min(...result.streams.map((o) => o.lastAt ?? Number.NEGATIVE_INFINITY));
      const overlapMs = earliestLast - lastFirst;
      const reasons: string[] = [];
      if (row.failed) reasons.push(`${row.failed} incomplete (${row.firstError})`);
      if (row.gapMax > STALL_MS) reasons.push(`a ${Math.round(row.gapMax)} ms gap`);
      if (!(overlapMs > 0)) reasons.push("not all open at once");
      const held = reasons.length === 0;
      steps.push({ target: target.name, streams, held, why: reasons.join("; ") || "all frames, no stall", row, overlapMs });
      log(
        `ramp ${streams} ${target.name}: ${held ? "held" : `NOT held: ${reasons.join("; ")}`} (ttft p99 ${ms(row.ttftP99)} ms, gap max ${ms(row.gapMax)} ms)`,
      );
      if (!held) active.delete(target.name);
    }
    if (stoppedByDeadline || active.size === 0) break;
  }
  return { steps, stoppedByDeadline };
}

// ---- Report --------------------------------------------------------------------------
function report(input: {
  started: Date;
  elapsedS: number;
  loadBefore: number[];
  loadAfter: number[];
  portkeyVersion: string | null;
  latency: LatencyRow[];
  streams: StreamRow[];
  ramp: { steps: RampStep[]; stoppedByDeadline: boolean };
  limiter: Awaited<ReturnType<typeof limiterPhase>> | null;
}): string {
  const { latency, streams, ramp } = input;
  const lat = (target: string, c: number) => latency.find((r) => r.target === target && r.concurrency === c);
  const str = (target: string, c: number) => streams.find((r) => r.target === target && r.concurrency === c);
  const peers = ["qdz proxy", ...(input.portkeyVersion ? ["portkey"] : [])];
  const streamPeers = [...peers, ...(input.portkeyVersion ? ["portkey (bun)"] : [])];
  const maxHeld = (target: string) => Math.max(0, ...ramp.steps.filter((s) => s.target === target && s.held).map((s) => s.streams));
  const commit = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: projectRoot }).stdout.toString().trim();
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--", "src", "routes", "db"], { cwd: projectRoot }).stdout.toString().trim() !== "";
  const la = (l: number[]) => l.map((v) => v.toFixed(2)).join(" / ");

  const d1 = lat("direct", 1)!;
  const d16 = lat("direct", 16)!;
  const sd1 = str("direct", 1)!;
  const goalRows = [
    {
      metric: "added latency p50, c=1",
      goal: "< 0.3 ms",
      value: (t: string) => (lat(t, 1)?.p50 ?? Number.NaN) - d1.p50,
      fmt: (v: number) => `${signed(v, 3)} ms`,
      met: (v: number) => v < 0.3,
    },
    {
      metric: "added latency p99, c=1",
      goal: "< 1 ms",
      value: (t: string) => (lat(t, 1)?.p99 ?? Number.NaN) - d1.p99,
      fmt: (v: number) => `${signed(v, 3)} ms`,
      met: (v: number) => v < 1,
    },
    {
      metric: "RPS vs direct, c=16",
      goal: "≥ 40 %",
      value: (t: string) => ((lat(t, 16)?.rps ?? Number.NaN) / d16.rps) * 100,
      fmt: (v: number) => `${v.toFixed(1)} %`,
      met: (v: number) => v >= 40,
    },
    {
      metric: "added time to first token p50, c=1",
      goal: "< 1 ms",
      value: (t: string) => (str(t, 1)?.ttftP50 ?? Number.NaN) - sd1.ttftP50,
      fmt: (v: number) => `${signed(v, 3)} ms`,
      met: (v: number) => v < 1,
    },
    {
      metric: "p99 inter-frame gap, c=64 (paced 20 ms)",
      goal: `report (direct ${ms(str("direct", 64)!.gapP99)} ms)`,
      value: (t: string) => str(t, 64)?.gapP99 ?? Number.NaN,
      fmt: (v: number) => `${ms(v)} ms`,
      met: (v: number) => v <= str("direct", 64)!.gapP99 + 5,
    },
    { metric: "stall-free concurrent streams", goal: "≥ 512", value: (t: string) => maxHeld(t), fmt: (v: number) => `${v}`, met: (v: number) => v >= 512 },
  ];

  const lines: string[] = [];
  lines.push("# `bun run bench:proxy` — latest results", "");
  lines.push(
    `Run ${input.started.toISOString()} at commit \`${commit}\`${dirty ? " (with uncommitted changes under src/routes/db)" : ""}, ${input.elapsedS.toFixed(0)} s. ` +
      `Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? "?"}; **load average (1/5/15 min) ${la(input.loadBefore)} before, ${la(input.loadAfter)} after** ` +
      "(other work on the machine shares the cores with the load generator, the mock and the gateways). " +
      `Bun ${Bun.version}, Node ${Bun.spawnSync(["node", "--version"]).stdout.toString().trim()}` +
      (input.portkeyVersion ? `, Portkey gateway ${input.portkeyVersion} (\`@portkey-ai/gateway\`, under Node, \`--headless\`).` : ". Portkey not installed."),
    "",
  );
  lines.push("## Goals (issue 6)", "");
  lines.push(`| metric | goal | ${streamPeers.join(" | ")} |`, `| --- | --- | ${streamPeers.map(() => "---:").join(" | ")} |`);
  const measuredBy = (t: string, metric: string) =>
    t !== "portkey (bun)" || metric.includes("first token") || metric.includes("frame") || metric.includes("streams");
  for (const g of goalRows) {
    const cell = (t: string) => {
      if (!measuredBy(t, g.metric)) return "not run";
      const v = g.value(t);
      if (!Number.isFinite(v)) return "failed ❌";
      return `${g.fmt(v)} ${g.met(v) ? "✅" : "❌"}`;
    };
    lines.push(`| ${g.metric} | ${g.goal} | ${streamPeers.map(cell).join(" | ")} |`);
  }
  lines.push(
    "",
    ...whereTheTimeGoes(lat),
    `Direct baseline (client → mock, no gateway): stall-free streams ${maxHeld("direct")}${maxHeld("direct") === RAMP.at(-1) ? " (the ramp's top)" : ""}; ` +
      "a gateway cannot show more than the client and mock manage alone on these shared cores.",
    "",
    ...(input.portkeyVersion
      ? [
          "**Portkey under Node cannot stream here:** every `stream: true` request answers 500 `Something went wrong` (its log: `TypeError: immutable` in `updateHeaders`, " +
            "the known Portkey-AI/gateway#1550 / #1389 class: @hono/node-server's Response keeps the upstream fetch's immutable headers). " +
            "`portkey (bun)` is the same build started with Bun, used as the streaming peer only.",
          "",
        ]
      : []),
    `The api ran with BUN_CONFIG_MAX_HTTP_REQUESTS = ${API_MAX_HTTP_REQUESTS} (as \`npm start\` runs it); \`portkey (bun)\` with ${process.env.BUN_CONFIG_MAX_HTTP_REQUESTS ? `= ${process.env.BUN_CONFIG_MAX_HTTP_REQUESTS}` : "Bun's default of 256 fetches in flight per process"}: ` +
      "beyond that many upstream streams, further ones wait for a free slot, which the ramp shows as streams not all open at once (first-token time ≈ one whole stream). " +
      "The load generator always runs with 65535.",
    "",
    "**Auth and a firewall on:** every proxied request is authenticated (Bearer key → cached principal, rate limiter, cached serving-name route) " +
      "and screened by an attached firewall (prompt injection, secrets, PII, length limit; none fires on the bench prompt, so the body is parsed, checked and forwarded as it came).",
    "",
  );

  lines.push("## Latency: non-streaming chat completion (small JSON)", "");
  lines.push(
    `Closed loop, keep-alive, ${ROUNDS} interleaved rounds × ${LATENCY_WINDOW_MS} ms measured after ${LATENCY_WARMUP_MS} ms warm-up, per target and concurrency. ` +
      "Added = the target's percentile minus direct's. CPU is the process's user+system time per request (from /proc, 10 ms ticks).",
    "",
  );
  lines.push("| c | target | p50 ms | p99 ms | added p50 | added p99 | RPS | % of direct | errors | CPU µs/req (gateway) | CPU µs/req (mock) |");
  lines.push("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const c of CONCURRENCIES) {
    const direct = lat("direct", c)!;
    for (const t of ["direct", FLOOR, ...peers]) {
      const row = lat(t, c);
      if (!row) continue;
      const gatewayCpu = t === "direct" ? undefined : row.cpuUsPerRequest[processOf(t)];
      lines.push(
        `| ${c} | ${t} | ${ms(row.p50, 3)} | ${ms(row.p99, 3)} | ${t === "direct" ? "" : signed(row.p50 - direct.p50, 3)} | ${t === "direct" ? "" : signed(row.p99 - direct.p99, 3)} | ` +
          `${Math.round(row.rps)} | ${((row.rps / direct.rps) * 100).toFixed(1)} % | ${row.errors} | ${gatewayCpu === undefined ? "" : Math.round(gatewayCpu)} | ${Math.round(row.cpuUsPerRequest.mock ?? Number.NaN)} |`,
      );
    }
  }
  const errored = latency.filter((r) => r.firstError);
  for (const r of errored) lines.push("", `First error, ${r.target} c=${r.concurrency}: \`${r.firstError!.replaceAll("`", "'").slice(0, 300)}\``);

  lines.push("", `## Streaming: SSE, ${FRAMES} frames × ${FRAME_MS} ms`, "");
  lines.push(
    `${ROUNDS} interleaved rounds; per round each of c workers runs ${Object.entries(STREAMS_PER_WORKER)
      .map(([c, n]) => `${n} (c=${c})`)
      .join(", ")} streams back to back. ` +
      "Time to first token = request sent → first frame read; gaps are between consecutive frames as read by the client (the upstream paces them 20 ms apart).",
    "",
  );
  lines.push("| c | target | streams | failed | TTFT p50 ms | TTFT p99 ms | added TTFT p50 | added TTFT p99 | gap p50 ms | gap p99 ms | gap max ms |");
  lines.push("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const c of CONCURRENCIES) {
    const direct = str("direct", c)!;
    for (const t of ["direct", ...streamPeers]) {
      const r = str(t, c)!;
      lines.push(
        `| ${c} | ${t} | ${r.streams} | ${r.failed} | ${ms(r.ttftP50, 3)} | ${ms(r.ttftP99, 3)} | ${t === "direct" ? "" : signed(r.ttftP50 - direct.ttftP50, 3)} | ` +
          `${t === "direct" ? "" : signed(r.ttftP99 - direct.ttftP99, 3)} | ${ms(r.gapP50)} | ${ms(r.gapP99)} | ${ms(r.gapMax)} |`,
      );
    }
  }
  for (const r of streams.filter((s) => s.firstError))
    lines.push("", `First stream error, ${r.target} c=${r.concurrency}: \`${r.firstError!.replaceAll("`", "'")}\``);

  lines.push("", "## Concurrent streams ramp", "");
  lines.push(
    `All N streams are opened at once (one load-generator process). A level is held when every stream delivers all ${FRAMES} frames in order and \`[DONE]\`, ` +
      `no gap between frames exceeds ${STALL_MS} ms, and every stream's first frame arrived before any stream's last (all N open at the same moment). ` +
      `A target stops at its first level not held; ramp ${RAMP.join(" → ")}, bounded to ${RAMP_DEADLINE_MS / 1000} s${ramp.stoppedByDeadline ? " (**the deadline cut it short**)" : ""}.`,
    "",
  );
  lines.push("| streams | target | held | TTFT p50 ms | TTFT p99 ms | gap p99 ms | gap max ms | overlap ms | verdict |");
  lines.push("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |");
  for (const s of ramp.steps) {
    lines.push(
      `| ${s.streams} | ${s.target} | ${s.held ? "yes" : "**no**"} | ${ms(s.row.ttftP50)} | ${ms(s.row.ttftP99)} | ${ms(s.row.gapP99)} | ${ms(s.row.gapMax)} | ${ms(s.overlapMs, 0)} | ${s.why.replaceAll("|", "/").slice(0, 160)} |`,
    );
  }
  if (input.limiter) lines.push(...limiterSection(input.limiter));
  lines.push(
    "",
    "## Method",
    "",
    "- Every process on 127.0.0.1: the mock upstream (Bun), the api (`bun server/api.ts` against an embedded PostgreSQL; rate limit raised out of the way), Portkey (Node), and a fresh load-generator process (Bun fetch, keep-alive) per run. Targets are interleaved, the order rotating every round.",
    "- `qdz proxy` is the real /v1 path: Bearer key → key cache → rate limiter → serving-name route cache → `fetch` to the instance's current run's `runtime_url` (the mock) → body streamed back untouched. Caches are warm after the first request (the warm-up), so PostgreSQL is off the hot path.",
    "- Portkey gets `x-portkey-provider: openai` and `x-portkey-custom-host: <mock>/v1`, so both gateways forward to the same mock.",
    "- Source: `tests/bench/proxy/` (main.ts orchestrates, load.ts generates load, mock-upstream.ts is the upstream).",
    "",
  );
  return lines.join("\n");
}

/**
 * The floor next to the proxy: how much of the gap to direct is Bun's HTTP
 * server and client (which any Bun proxy pays) and how much the proxy's own
 * work (auth, routing, firewall, headers).
 */
function whereTheTimeGoes(lat: (target: string, c: number) => LatencyRow | undefined): string[] {
  const [d1, f1, q1, d16, f16, q16] = [lat("direct", 1), lat(FLOOR, 1), lat("qdz proxy", 1), lat("direct", 16), lat(FLOOR, 16), lat("qdz proxy", 16)];
  if (!d1 || !f1 || !q1 || !d16 || !f16 || !q16) return [];
  const pctOf = (a: number, b: number) => `${((a / b) * 100).toFixed(1)} %`;
  return [
    `**Where the time goes** (\`${FLOOR}\` = tests/bench/proxy/bare-proxy.ts: Bun.serve + fetch + the body passed back, nothing else). ` +
      `At c=16 the bare Bun proxy reaches ${pctOf(f16.rps, d16.rps)} of direct's RPS and the qdz proxy ${pctOf(q16.rps, d16.rps)} (${pctOf(q16.rps, f16.rps)} of the floor's); ` +
      `CPU per request: floor ${Math.round(f16.cpuUsPerRequest.floor ?? Number.NaN)} µs, qdz ${Math.round(q16.cpuUsPerRequest.api ?? Number.NaN)} µs, mock ${Math.round(d16.cpuUsPerRequest.mock ?? Number.NaN)} µs when called directly. ` +
      `At c=1 the floor adds ${signed(f1.p50 - d1.p50, 3)} ms p50 / ${signed(f1.p99 - d1.p99, 3)} ms p99, the qdz proxy ${signed(q1.p50 - d1.p50, 3)} / ${signed(q1.p99 - d1.p99, 3)} ms. ` +
      "The difference between the floor and the qdz proxy is the proxy's own work; the rest of the gap to direct is a second HTTP hop through Bun's server and client on the same two cores.",
    "",
  ];
}

// ---- Main -----------------------------------------------------------------------------
const started = new Date();
const loadBefore = loadavg();
let exitCode = 0;
try {
  const { latencyTargets, streamTargets, portkeyVersion, databaseUrl } = await setUp();
  log("latency phase");
  const latency = PHASES.has("latency") ? await latencyPhase(latencyTargets) : [];
  log("streaming phase");
  const streams = PHASES.has("streams") ? await streamPhase(streamTargets) : [];
  log("concurrent-streams ramp");
  const ramp = PHASES.has("ramp") ? await rampPhase(streamTargets) : { steps: [], stoppedByDeadline: false };
  log("rate limit across replicas");
  const limiter = PHASES.has("limiter") ? await limiterPhase(databaseUrl, QUICK) : null;
  if (process.env.BENCH_PHASES || TARGETS || process.env.BENCH_CONCURRENCIES) {
    log("a diagnostic run (BENCH_PHASES/BENCH_TARGETS/BENCH_CONCURRENCIES): the log above is its result; no table written");
    if (limiter) console.log(limiterSection(limiter).join("\n"));
    for (const row of latency) {
      log(
        `c=${row.concurrency} ${row.target}: CPU µs/req ${JSON.stringify(Object.fromEntries(Object.entries(row.cpuUsPerRequest).map(([k, v]) => [k, Math.round(v)])))}`,
      );
    }
  } else {
    const markdown = report({
      started,
      elapsedS: (Date.now() - started.getTime()) / 1000,
      loadBefore,
      loadAfter: loadavg(),
      portkeyVersion,
      latency,
      streams,
      ramp,
      limiter,
    });
    writeFileSync(resultsPath, markdown);
    console.log(markdown);
    log(`written to ${resultsPath}`);
  }
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);

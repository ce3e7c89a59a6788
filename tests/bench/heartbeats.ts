/**
 * `bun run bench:heartbeats`: N simulated pods (heartbeats-pods.ts) posting a heartbeat every second, and a
 * resource sample every fifth, for a 60 s window to the real api — `bun server/api.ts` in its own process,
 * started as the supervisor starts it — and the same posts to a bare Bun endpoint (heartbeats-floor.ts, the
 * floor) in the same run, for N = 1,000, 5,000 and 10,000.
 *
 * Each size gets a fresh database copied from one migrated template, seeded with N running instances across
 * N/5 accounts, each with its live current run and that run's agent token (only its hash stored, as
 * provisioning stores it); the pods post with those tokens. Per target: a warm-up (connections open, caches
 * filled), then the window, in which are measured: beats due / accepted (2xx), acknowledgement latency
 * (request written → whole answer read), each server's CPU (utime + stime from /proc), PostgreSQL's CPU
 * (postmaster and backends) and the statements the api's role ran (pg_stat_statements, preloaded: exact
 * per statement, attributable to the app role and this database, named in the results; pg_stat_database's
 * commit counter counts transactions, flushes late and cannot say which). The floor's run is the api's idle
 * baseline: the api is up and unloaded meanwhile, so a statement it runs then (pg-boss's own polling) is
 * background, listed apart; the statements counted against the goal are the others.
 * After the api's window, the database is checked: every run's last heartbeat recent, the samples stored.
 *
 * Quick runs (results printed, file not written): HEARTBEAT_BENCH_SECONDS=10 (window), HEARTBEAT_BENCH_SIZES=1000,
 * HEARTBEAT_BENCH_WARMUP=5 (s), HEARTBEAT_BENCH_GENERATORS=2 (pod processes). HEARTBEAT_BENCH_PROFILE=<dir>: the
 * api writes a CPU profile (Markdown) there when it exits. The committed results use the defaults.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { newSecret, sha256Hex } from "../../src/auth/secrets";
import { projectRoot } from "../../src/config";
import { newId } from "../../src/ids";
import { APP_ROLE } from "../../src/platform/database-roles";
import { type BenchCluster, type BenchDatabase, startBenchCluster } from "./databases";
import { benchPricing, benchRuntime, currentCommit, loadAverages } from "./fixtures";
import type { PodCredentials, PodsResult, PodsSpec, Tally } from "./heartbeats-pods";
import { cpuMsOf, freePort, lines, treeCpuMsOf } from "./processes";

// ---- Plan ---------------------------------------------------------------------------
const SIZES = (process.env.HEARTBEAT_BENCH_SIZES ?? "1000,5000,10000").split(",").map(Number);
const SECONDS = Number(process.env.HEARTBEAT_BENCH_SECONDS ?? 60);
/**
 * Long enough for an api just started to settle: in its first seconds under 10,000 pods it reads every
 * token, compiles its hot paths and writes the backlog that built up meanwhile (reported apart, as the warm-up).
 */
const WARMUP_SECONDS = Number(process.env.HEARTBEAT_BENCH_WARMUP ?? 20);
const GENERATORS = Number(process.env.HEARTBEAT_BENCH_GENERATORS ?? 1);
const PROFILE_DIR = process.env.HEARTBEAT_BENCH_PROFILE;
const NARROWED = ["SIZES", "SECONDS", "WARMUP", "GENERATORS", "PROFILE"].some((name) => process.env[`HEARTBEAT_BENCH_${name}`] !== undefined);
const RUNS_PER_ACCOUNT = 5;
/** As the local provider configures every agent (agent.json): a heartbeat every 1,000 ms, a sample every 5,000 ms. */
const SAMPLE_EVERY = 5;
/** The agent gives up on a report after 5 s (pods/agent/main.ts). */
const TIMEOUT_MS = 5000;
const GOALS = { p99Ms: 50, statementsPerSecond: 2, cpuRatio: 2, pods: 10_000 };

const resultsPath = join(projectRoot, "tests/bench/heartbeats-results.md");
const dataDir = join(projectRoot, `.data/bench-heartbeats-${process.pid}`);
const TEMPLATE = "qdz_bench_heartbeats_template";
const bunBin = process.execPath;
const log = (line: string) => console.error(`[bench:heartbeats] ${line}`);

let cluster: BenchCluster | undefined;
const children = new Set<Subprocess>();

async function cleanup() {
  await Promise.all([...children].map((child) => stop(child)));
  await cluster?.stop().catch((error) => log(`stopping PostgreSQL: ${error}`));
  rmSync(dataDir, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}

/** A child whose stdout is read here (a pods process's result); stderr to a file when named, else read here too. */
function spawn(cmd: string[], env: Record<string, string | undefined> = {}, logName?: string): Subprocess<"ignore", "pipe", "pipe"> {
  const stderr = logName ? Bun.file(join(dataDir, `${logName}.log`)) : "pipe";
  const child = Bun.spawn(cmd, { cwd: projectRoot, env: { ...process.env, ...env }, stdin: "ignore", stdout: "pipe", stderr });
  children.add(child);
  return child as Subprocess<"ignore", "pipe", "pipe">;
}

/** A server's stdout, read to its end in the background so that it never fills the pipe; its first line is returned. */
async function firstLineOf(child: Subprocess<"ignore", "pipe", "pipe">): Promise<string> {
  const output = lines(child.stdout);
  const first = (await output.next()).value ?? "";
  void (async () => {
    for await (const _ of output);
  })();
  return first;
}

const logTail = (name: string) =>
  Bun.file(join(dataDir, `${name}.log`))
    .text()
    .then((text) => text.slice(-3000))
    .catch(() => "");

/** SIGTERM (the api flushes its last heartbeats and, when profiled, writes its profile), SIGKILL after 10 s. */
async function stop(child: Subprocess) {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  const killed = await Promise.race([child.exited.then(() => false), Bun.sleep(10_000).then(() => true)]);
  if (killed) child.kill("SIGKILL");
  await child.exited;
  children.delete(child);
}

const sleepUntil = (wallMs: number) => Bun.sleep(Math.max(0, wallMs - Date.now()));

// ---- Seed -----------------------------------------------------------------------------
/**
 * N running instances across N/5 accounts, as placement and the agent leave them: state running, a current
 * run that is running and not ended, its pod attached and its agent token's SHA-256 stored (the token itself
 * goes only to the pod, here the pods file). Ids and tokens come from the product's own generators.
 */
async function seed(db: BenchDatabase, n: number, podsFile: string): Promise<void> {
  const accounts = Array.from({ length: Math.ceil(n / RUNS_PER_ACCOUNT) }, () => newId("account"));
  const pods = Array.from({ length: n }, (_, i) => ({
    accountId: accounts[Math.floor(i / RUNS_PER_ACCOUNT)]!,
    instanceId: newId("instance"),
    runId: newId("run"),
    token: newSecret("qdza_"),
  }));
  const pricing = benchPricing();
  const runtime = benchRuntime;
  const rows = JSON.stringify(pods.map((p, i) => ({ ...p, tokenHash: sha256Hex(p.token), podId: `pod_bench_${i}` })));
  await db.app.sql.begin(async (tx) => {
    await tx`insert into accounts (id, name) select id, 'bench' from unnest(${accounts}::text[]) as id`;
    await tx.unsafe(
      `insert into instances (id, account_id, name, state, model_class, gpu_preferences, gpu_count, tier, pricing_snapshot, runtime_config,
                              provider_id, region, gpu_type, rate_cents_per_hour, current_run_id)
       select p."instanceId", p."accountId", 'bench', 'running', 'llm', '{L4}', 1, 'secure', $2::jsonb, $3::jsonb, 'local', 'local', 'L4', 80, p."runId"
       from jsonb_to_recordset($1::jsonb) as p("instanceId" text, "accountId" text, "runId" text)`,
      [rows, JSON.stringify(pricing), JSON.stringify(runtime)],
    );
    await tx.unsafe(
      `insert into instance_runs (id, instance_id, number, provider_id, pod_id, region, gpu_type, rate_cents_per_hour, agent_token_hash,
                                  claimed_at, running_at, last_heartbeat_at)
       select p."runId", p."instanceId", 1, 'local', p."podId", 'local', 'L4', 80, p."tokenHash", now(), now(), now()
       from jsonb_to_recordset($1::jsonb) as p("instanceId" text, "runId" text, "podId" text, "tokenHash" text)`,
      [rows],
    );
  });
  await db.owner.sql`vacuum analyze`;
  writeFileSync(podsFile, JSON.stringify(pods.map(({ runId, token }) => ({ runId, token }) satisfies PodCredentials)));
}

// ---- Measurement ------------------------------------------------------------------------
interface Statement {
  /** pg_stat_statements' queryid. */
  id: string;
  query: string;
  calls: number;
  execMs: number;
}

interface Snapshot {
  /** The database clock at the snapshot. */
  at: Date;
  cpuMs: Record<string, number>;
  /** By queryid: what the app role has run in this database so far. */
  statements: Map<string, Statement>;
}

async function snapshot(db: BenchDatabase, processes: Record<string, () => number>): Promise<Snapshot> {
  const cpuMs = Object.fromEntries(Object.entries(processes).map(([name, read]) => [name, read()]));
  const rows = await cluster!.admin.sql<{ id: string; query: string; calls: string; exec_ms: number }[]>`
    select s.queryid::text as id, s.query, s.calls::text as calls, s.total_exec_time as exec_ms
    from pg_stat_statements s join pg_database d on d.oid = s.dbid join pg_roles r on r.oid = s.userid
    where d.datname = ${db.name} and r.rolname = ${APP_ROLE}`;
  const [clock] = await cluster!.admin.sql<{ ms: number }[]>`select (extract(epoch from now()) * 1000)::float8 as ms`;
  return {
    at: new Date(clock!.ms),
    cpuMs,
    statements: new Map(rows.map((r) => [r.id, { id: r.id, query: r.query, calls: Number(r.calls), execMs: r.exec_ms }])),
  };
}

/** What ran between two snapshots, most called first. */
function statementsBetween(before: Snapshot, after: Snapshot): Statement[] {
  const ran: Statement[] = [];
  for (const [id, end] of after.statements) {
    const start = before.statements.get(id);
    const calls = end.calls - (start?.calls ?? 0);
    if (calls > 0) ran.push({ id, query: end.query, calls, execMs: end.execMs - (start?.execMs ?? 0) });
  }
  return ran.sort((a, b) => b.calls - a.calls);
}

interface TargetRun {
  target: "floor" | "api";
  beats: Tally;
  samples: Tally;
  warmupBeats: Tally;
  connects: number;
  firstError: string | null;
  /** CPU ms in the window, by process: api, floor, postgres, pods. */
  cpuMs: Record<string, number>;
  /** What the app role ran in the window. */
  statements: Statement[];
}

function merge(results: PodsResult[]): Pick<TargetRun, "beats" | "samples" | "warmupBeats" | "connects" | "firstError"> {
  const tally = (kind: "beats" | "samples" | "warmupBeats"): Tally => {
    const all = results.map((r) => r[kind]);
    const refused: Record<string, number> = {};
    for (const t of all) for (const [status, count] of Object.entries(t.refused)) refused[status] = (refused[status] ?? 0) + count;
    const sum = (key: "due" | "accepted" | "failed" | "unanswered") => all.reduce((s, t) => s + t[key], 0);
    return {
      due: sum("due"),
      accepted: sum("accepted"),
      refused,
      failed: sum("failed"),
      unanswered: sum("unanswered"),
      latencyMs: all.flatMap((t) => t.latencyMs),
      lagMs: all.flatMap((t) => t.lagMs),
    };
  };
  return {
    beats: tally("beats"),
    samples: tally("samples"),
    warmupBeats: tally("warmupBeats"),
    connects: results.reduce((s, r) => s + r.connects, 0),
    firstError: results.find((r) => r.firstError)?.firstError ?? null,
  };
}

/** The pods of this size against one target for warm-up + window; snapshots at the window's edges. */
async function drive(
  target: TargetRun["target"],
  port: number,
  db: BenchDatabase,
  n: number,
  podsFile: string,
  servers: Record<string, Subprocess>,
): Promise<TargetRun & { window: { before: Snapshot; after: Snapshot } }> {
  const startAt = Date.now() + 2000;
  const per = Math.ceil(n / GENERATORS);
  const generators = Array.from({ length: GENERATORS }, (_, g) => {
    const spec: PodsSpec = {
      host: "127.0.0.1",
      port,
      podsFile,
      from: g * per,
      to: Math.min(n, (g + 1) * per),
      startAt,
      warmupMs: WARMUP_SECONDS * 1000,
      windowMs: SECONDS * 1000,
      sampleEvery: SAMPLE_EVERY,
      timeoutMs: TIMEOUT_MS,
    };
    return spawn([bunBin, join(import.meta.dir, "heartbeats-pods.ts"), JSON.stringify(spec)]);
  });
  const outputs = Promise.all(
    generators.map(async (proc) => {
      const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      children.delete(proc);
      if (code !== 0) throw new Error(`a pods process failed (exit ${code}): ${err.slice(-2000)}`);
      return JSON.parse(out) as PodsResult;
    }),
  );
  const processes: Record<string, () => number> = {
    ...Object.fromEntries(Object.entries(servers).map(([name, proc]) => [name, () => cpuMsOf(proc.pid)])),
    postgres: () => treeCpuMsOf(cluster!.pid),
    pods: () => generators.reduce((sum, proc) => sum + cpuMsOf(proc.pid), 0),
  };
  await sleepUntil(startAt + WARMUP_SECONDS * 1000);
  const before = await snapshot(db, processes);
  await sleepUntil(startAt + (WARMUP_SECONDS + SECONDS) * 1000);
  const after = await snapshot(db, processes);
  const result = merge(await outputs);
  const cpuMs = Object.fromEntries(Object.keys(processes).map((name) => [name, after.cpuMs[name]! - before.cpuMs[name]!]));
  return { target, ...result, cpuMs, statements: statementsBetween(before, after), window: { before, after } };
}

interface Stored {
  runs: number;
  /** Runs whose last heartbeat is within 2 s of the window's end: every pod's last beats were recorded. */
  freshRuns: number;
  /** Resource samples stored with a receive time inside the window. */
  samplesInWindow: number;
}

async function stored(db: BenchDatabase, windowEnd: Date, windowStart: Date): Promise<Stored> {
  const [row] = await db.owner.sql<{ runs: number; fresh: number; samples: number }[]>`
    select (select count(*)::int from instance_runs) as runs,
           (select count(*)::int from instance_runs where last_heartbeat_at >= ${windowEnd.toISOString()}::timestamptz - interval '2 seconds') as fresh,
           (select count(*)::int from resource_samples where at >= ${windowStart.toISOString()}::timestamptz and at < ${windowEnd.toISOString()}::timestamptz) as samples`;
  return { runs: row!.runs, freshRuns: row!.fresh, samplesInWindow: row!.samples };
}

interface SizeResult {
  pods: number;
  floor: TargetRun;
  api: TargetRun;
  /** The api's statements in its window, of kinds it does not run unloaded: what the pods' reports cost. */
  reportStatements: Statement[];
  /** The api's statements in its window of kinds it also ran unloaded (during the floor's run): pg-boss's own. */
  backgroundStatements: Statement[];
  /** How long the api sat unloaded, and what it ran meanwhile. */
  idle: { seconds: number; statements: Statement[] };
  stored: Stored;
}

async function size(n: number): Promise<SizeResult> {
  const db = await cluster!.fresh(`qdz_bench_heartbeats_${n}`);
  const podsFile = join(dataDir, `pods-${n}.json`);
  let api: Subprocess | undefined;
  let floor: Subprocess | undefined;
  try {
    let start = performance.now();
    await seed(db, n, podsFile);
    log(`${n}: seeded in ${((performance.now() - start) / 1000).toFixed(1)} s`);

    const floorProcess = spawn([bunBin, join(import.meta.dir, "heartbeats-floor.ts")], {}, `floor-${n}`);
    floor = floorProcess;
    const floorPort = (JSON.parse((await firstLineOf(floorProcess)) || "{}") as { port: number }).port;
    // As server/supervisor.ts starts it: the app role's URL, supervised, Bun's outgoing-request limit raised.
    const apiPort = freePort();
    const profile = PROFILE_DIR ? ["--cpu-prof-md", `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=api-${n}.md`] : [];
    const apiProcess = spawn(
      [bunBin, ...profile, "server/api.ts"],
      {
        DATABASE_URL: db.appUrl,
        DATABASE_OWNER_URL: undefined,
        QDZ_SUPERVISED: "1",
        BUN_CONFIG_MAX_HTTP_REQUESTS: "4096",
        PORT: String(apiPort),
        HOST: "127.0.0.1",
        QDZ_DATA_DIR: dataDir,
      },
      `api-${n}`,
    );
    api = apiProcess;
    void firstLineOf(apiProcess);
    start = performance.now();
    while (
      !(await fetch(`http://127.0.0.1:${apiPort}/readyz`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (api.exitCode !== null || performance.now() - start > 60_000) throw new Error(`the api did not become ready: ${await logTail(`api-${n}`)}`);
      await Bun.sleep(100);
    }
    log(`${n}: api ready in ${((performance.now() - start) / 1000).toFixed(1)} s`);
    const servers = { api, floor };

    const idleFrom = await snapshot(db, {});
    const floorRun = await drive("floor", floorPort, db, n, podsFile, servers);
    const idleTo = await snapshot(db, {});
    log(`${n}: floor ${line(floorRun)}`);
    const apiRun = await drive("api", apiPort, db, n, podsFile, servers);
    log(`${n}: api ${line(apiRun)}`);
    // The last beats of the window are flushed within a second of it.
    await Bun.sleep(1500);
    const check = await stored(db, apiRun.window.after.at, apiRun.window.before.at);
    const idle = { seconds: (idleTo.at.getTime() - idleFrom.at.getTime()) / 1000, statements: statementsBetween(idleFrom, idleTo) };
    const background = new Set(idle.statements.map((st) => st.id));
    const idleCalls = idle.statements.reduce((sum, st) => sum + st.calls, 0);
    log(
      `${n}: ${check.freshRuns} of ${check.runs} runs' heartbeats fresh at the window's end; ${check.samplesInWindow} samples stored; api unloaded ${idle.seconds.toFixed(0)} s: ${idleCalls} statements, ${cpuPct(floorRun.cpuMs.api!)} CPU`,
    );
    return {
      pods: n,
      floor: floorRun,
      api: apiRun,
      reportStatements: apiRun.statements.filter((st) => !background.has(st.id)),
      backgroundStatements: apiRun.statements.filter((st) => background.has(st.id)),
      idle,
      stored: check,
    };
  } finally {
    if (api) await stop(api);
    if (floor) await stop(floor);
    // Whatever the api complained about (a failed flush, say) belongs beside its figures.
    const complaints = (await logTail(`api-${n}`)).trim();
    if (complaints) log(`${n}: the api's stderr ends with:\n${complaints.slice(-1500)}`);
    await db.drop();
  }
}

// ---- Figures -------------------------------------------------------------------------------
const sortNum = (values: number[]) => Float64Array.from(values).sort();
function pct(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Figures {
  due: number;
  accepted: number;
  notAccepted: number;
  p50: number;
  p99: number;
  max: number;
  lagP99: number;
  /** % of one core over the window. */
  cpu: number;
  /** The server's CPU per report it answered (beats and samples), in µs. */
  cpuPerReportUs: number;
  statementsPerSecond: number;
}

function figures(run: TargetRun, tally: Tally, process: "api" | "floor", statements: Statement[] = []): Figures {
  const latency = sortNum(tally.latencyMs);
  const refused = Object.values(tally.refused).reduce((s, c) => s + c, 0);
  return {
    due: tally.due,
    accepted: tally.accepted,
    notAccepted: refused + tally.failed + tally.unanswered,
    p50: pct(latency, 50),
    p99: pct(latency, 99),
    max: latency.length ? latency[latency.length - 1]! : Number.NaN,
    lagP99: pct(sortNum(tally.lagMs), 99),
    cpu: (run.cpuMs[process]! / (SECONDS * 1000)) * 100,
    cpuPerReportUs: (run.cpuMs[process]! * 1000) / Math.max(1, run.beats.accepted + run.samples.accepted),
    statementsPerSecond: statements.reduce((sum, st) => sum + st.calls, 0) / SECONDS,
  };
}

function line(run: TargetRun): string {
  const f = figures(run, run.beats, run.target);
  return (
    `${f.accepted}/${f.due} beats accepted, p50 ${ms(f.p50)} p99 ${ms(f.p99)} max ${ms(f.max)} ms, lag p99 ${ms(f.lagP99)} ms, ` +
    `CPU ${f.cpu.toFixed(1)} %, postgres ${cpuPct(run.cpuMs.postgres!)}, pods ${cpuPct(run.cpuMs.pods!)}, ` +
    `${(run.statements.reduce((s, st) => s + st.calls, 0) / SECONDS).toFixed(1)} statements/s, ${run.connects} connections${run.firstError ? `; first error: ${run.firstError}` : ""}`
  );
}

// ---- Report ------------------------------------------------------------------------------
const n = (value: number) => value.toLocaleString("en-US");
const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : "–");
const cpuPct = (cpuMs: number) => `${((cpuMs / (SECONDS * 1000)) * 100).toFixed(1)} %`;
const mark = (ok: boolean) => (ok ? "✅" : "❌");

function report(results: SizeResult[], meta: { started: Date; elapsedS: number; load: number[][] }): string {
  const commit = currentCommit();
  const la = loadAverages;
  const out: string[] = [];
  out.push("# `bun run bench:heartbeats` — latest results", "");
  out.push(
    `Run ${meta.started.toISOString()} at commit \`${commit}\`, ${meta.elapsedS.toFixed(0)} s. ` +
      `Machine: **${cpus().length} cores** (${cpus()[0]?.model.trim()}) shared by everything in the run — the simulated pods, the server under load, ` +
      `PostgreSQL (embedded, default settings plus \`pg_stat_statements\`) — and by other work on the machine; Bun ${Bun.version}; ` +
      `load average ${la(meta.load[0]!)} before, ${la(meta.load[1]!)} after. Absolute CPU and latency figures are this machine's; ` +
      "the headline is the ratio of the api to the floor, measured in the same run.",
    "",
  );
  out.push(
    `Per size: a fresh database with N running instances (N/5 accounts), each with its live run and agent token; N simulated pods ` +
      `(${GENERATORS} process${GENERATORS > 1 ? "es" : ""}, one keep-alive connection per pod) post a heartbeat every second, pod i at i/N of the second, ` +
      `and a resource sample every ${SAMPLE_EVERY} s, as pods/agent/main.ts does; ${WARMUP_SECONDS} s of warm-up, then a ${SECONDS} s window. ` +
      '**floor** = heartbeats-floor.ts (bare `Bun.serve`: read, `JSON.parse`, answer `{"ok":true}`); **api** = `bun server/api.ts` started as the supervisor starts it.',
    "",
  );

  out.push("## Goals (issue 11)", "");
  const sizes = results.map((r) => r.pods);
  out.push(`| goal | target | ${sizes.map((s) => `${n(s)} pods`).join(" | ")} |`, `| --- | --- | ${sizes.map(() => "---:").join(" | ")} |`);
  const apiFigures = results.map((r) => figures(r.api, r.api.beats, "api", r.reportStatements));
  const floorFigures = results.map((r) => figures(r.floor, r.floor.beats, "floor"));
  const row = (goal: string, target: string, cell: (i: number) => [string, boolean]) =>
    out.push(
      `| ${goal} | ${target} | ${sizes
        .map((_, i) => {
          const [text, ok] = cell(i);
          return `${text} ${mark(ok)}`;
        })
        .join(" | ")} |`,
    );
  row("every beat accepted", "100 %", (i) => {
    const f = apiFigures[i]!;
    return [`${n(f.accepted)} / ${n(f.due)}`, f.accepted === f.due && f.due > 0];
  });
  row("p99 acknowledgement", `< ${GOALS.p99Ms} ms`, (i) => [`${ms(apiFigures[i]!.p99)} ms`, apiFigures[i]!.p99 < GOALS.p99Ms]);
  row("database statements", `≤ ${GOALS.statementsPerSecond} /s`, (i) => [
    `${apiFigures[i]!.statementsPerSecond.toFixed(2)} /s`,
    apiFigures[i]!.statementsPerSecond <= GOALS.statementsPerSecond,
  ]);
  row("api CPU / floor CPU", `≤ ${GOALS.cpuRatio}×`, (i) => {
    const ratio = apiFigures[i]!.cpu / floorFigures[i]!.cpu;
    return [`${ratio.toFixed(2)}× (${apiFigures[i]!.cpu.toFixed(1)} % / ${floorFigures[i]!.cpu.toFixed(1)} %)`, ratio <= GOALS.cpuRatio];
  });
  const at10k = results.findIndex((r) => r.pods === GOALS.pods);
  if (at10k >= 0) {
    const f = apiFigures[at10k]!;
    const met =
      f.accepted === f.due && f.p99 < GOALS.p99Ms && f.statementsPerSecond <= GOALS.statementsPerSecond && f.cpu / floorFigures[at10k]!.cpu <= GOALS.cpuRatio;
    out.push("", `**${n(GOALS.pods)} pods on one api process, every goal at once: ${met ? "met ✅" : "not met ❌"}.**`);
  }

  out.push("", "## Heartbeats", "");
  out.push(
    "Acknowledgement = request written → whole answer read, by the pod. Lag = due → written (the pods process's own lateness, " +
      "plus any wait behind the pod's previous report). CPU = utime + stime over the window, as % of one core; µs / report = that CPU " +
      "over the beats and samples it answered. " +
      "Statements/s = what the api's role ran in the window (pg_stat_statements) because of the reports: not counting the kinds it also runs unloaded (below).",
    "",
  );
  out.push(
    "| pods | target | beats due | accepted | not accepted | p50 ms | p99 ms | max ms | lag p99 ms | server CPU | µs / report | CPU / floor | PostgreSQL CPU | pods CPU | statements/s |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const [i, r] of results.entries()) {
    for (const [run, f] of [
      [r.floor, floorFigures[i]!],
      [r.api, apiFigures[i]!],
    ] as const) {
      out.push(
        `| ${n(r.pods)} | ${run.target} | ${n(f.due)} | ${n(f.accepted)} | ${n(f.notAccepted)} | ${ms(f.p50)} | ${ms(f.p99)} | ${ms(f.max)} | ${ms(f.lagP99)} | ` +
          `${f.cpu.toFixed(1)} % | ${f.cpuPerReportUs.toFixed(0)} | ${run.target === "api" ? `${(f.cpu / floorFigures[i]!.cpu).toFixed(2)}×` : "1×"} | ${cpuPct(run.cpuMs.postgres!)} | ` +
          `${cpuPct(run.cpuMs.pods!)} | ${run.target === "api" ? f.statementsPerSecond.toFixed(2) : "–"} |`,
      );
    }
  }

  out.push("", `## The warm-up: ${WARMUP_SECONDS} s from every pod's first beat`, "");
  out.push(
    "Not part of the goals, which are about steady state: the same beats while the server is just started (fresh process, no connection " +
      "yet, every pod's token still to be read, its code still to be compiled) and all N pods reach it within one second.",
    "",
  );
  out.push("| pods | target | beats due | accepted | not accepted | p50 ms | p99 ms | max ms |", "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of results) {
    for (const run of [r.floor, r.api]) {
      const f = figures(run, run.warmupBeats, run.target);
      out.push(`| ${n(r.pods)} | ${run.target} | ${n(f.due)} | ${n(f.accepted)} | ${n(f.notAccepted)} | ${ms(f.p50)} | ${ms(f.p99)} | ${ms(f.max)} |`);
    }
  }

  out.push("", "## Resource samples (every 5 s per pod, same connections)", "");
  out.push(
    "| pods | target | samples due | accepted | not accepted | p50 ms | p99 ms | stored in the window |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const r of results) {
    for (const run of [r.floor, r.api]) {
      const f = figures(run, run.samples, run.target);
      out.push(
        `| ${n(r.pods)} | ${run.target} | ${n(f.due)} | ${n(f.accepted)} | ${n(f.notAccepted)} | ${ms(f.p50)} | ${ms(f.p99)} | ${run.target === "api" ? n(r.stored.samplesInWindow) : "–"} |`,
      );
    }
  }

  out.push("", "## What the database ran for the api, per second of the window", "");
  out.push(
    "pg_stat_statements, the app role in this size's database, over the api's window. **reports** = kinds the api ran only under load (counted " +
      "against the goal); **background** = kinds it also ran while unloaded during the floor's run (pg-boss's polling), shown with their rate then.",
    "",
  );
  out.push("| pods | kind | calls/s | exec ms/s | statement |", "| ---: | --- | ---: | ---: | --- |");
  const text = (st: Statement) => st.query.replace(/\s+/g, " ").replaceAll("|", "\\|").slice(0, 140);
  for (const r of results) {
    for (const st of r.reportStatements) {
      out.push(`| ${n(r.pods)} | reports | ${(st.calls / SECONDS).toFixed(2)} | ${(st.execMs / SECONDS).toFixed(1)} | \`${text(st)}\` |`);
    }
    const idleRate = (id: string) => (r.idle.statements.find((st) => st.id === id)?.calls ?? 0) / r.idle.seconds;
    for (const st of r.backgroundStatements) {
      out.push(
        `| ${n(r.pods)} | background | ${(st.calls / SECONDS).toFixed(2)} (unloaded ${idleRate(st.id).toFixed(2)}) | ${(st.execMs / SECONDS).toFixed(1)} | \`${text(st)}\` |`,
      );
    }
  }

  out.push("", "## Checks after the api's window", "");
  out.push(
    "| pods | runs | last heartbeat within 2 s of the window's end | samples stored in the window | first error |",
    "| ---: | ---: | ---: | ---: | --- |",
  );
  for (const r of results) {
    const error = r.api.firstError ?? r.floor.firstError;
    out.push(
      `| ${n(r.pods)} | ${n(r.stored.runs)} | ${n(r.stored.freshRuns)} ${mark(r.stored.freshRuns === r.stored.runs)} | ${n(r.stored.samplesInWindow)} | ${error ? `\`${error.slice(0, 160)}\`` : "none"} |`,
    );
  }

  out.push(
    "",
    "## Method",
    "",
    "- Processes, all on 127.0.0.1: the embedded PostgreSQL; the api (`bun server/api.ts`, env as server/supervisor.ts gives it: the app role's " +
      "`DATABASE_URL`, `QDZ_SUPERVISED=1`, `BUN_CONFIG_MAX_HTTP_REQUESTS=4096`), fresh per size; the floor, fresh per size; one pods process per " +
      "target (tests/bench/heartbeats-pods.ts). The floor runs first, then the api, each with its own warm-up and window.",
    "- A pod is one TCP connection speaking HTTP/1.1 keep-alive with the headers Bun's fetch sends, one report at a time (a report due while " +
      "the previous one is out waits for it, as the agent's loop does), giving up after 5 s as the agent does. Bodies: a running pod's heartbeat " +
      '(`{"runId", "at", "workload": {"state": "ready"}}`) and a GPU pod\'s sample, both valid per src/instances/agent-contract.ts.',
    "- Statements: `pg_stat_statements` (loaded with `shared_preload_libraries`), calls by the app role in the size's database between the " +
      "window's edges. It names each statement and counts it when it runs; `pg_stat_database.xact_commit` would count transactions only, " +
      "include other sessions, and lag by the statistics flush. Kinds of statement the api also runs during the floor's run (it is up and unloaded then) are background, not counted against the goal.",
    "- CPU: utime + stime from /proc at the window's edges (10 ms ticks); PostgreSQL's is its postmaster's with all its children's. " +
      `The machine has ${cpus().length} CPUs for the pods, the server, PostgreSQL and anything else running: at 10,000 pods the pods process alone ` +
      "takes about a quarter of one, so latency figures there include waiting for a CPU; the api-to-floor ratio compares the two under the same conditions.",
    "",
  );
  return `${out.join("\n")}\n`;
}

// ---- Main ------------------------------------------------------------------------------------
let exitCode = 0;
try {
  const started = new Date();
  const loadBefore = loadavg();
  mkdirSync(dataDir, { recursive: true });
  cluster = await startBenchCluster(dataDir, TEMPLATE, { preload: ["pg_stat_statements"] });
  await cluster.admin.sql`create extension if not exists pg_stat_statements`;
  const results: SizeResult[] = [];
  for (const pods of SIZES) results.push(await size(pods));
  const markdown = report(results, { started, elapsedS: (Date.now() - started.getTime()) / 1000, load: [loadBefore, loadavg()] });
  console.log(markdown);
  if (NARROWED) log("a narrowed run (HEARTBEAT_BENCH_*): results file not written");
  else {
    writeFileSync(resultsPath, markdown);
    log(`written to ${resultsPath}`);
  }
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);

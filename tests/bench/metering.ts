/**
 * `bun run bench:metering`: one billing tick (src/metering/tick.ts) timed over
 * N running runs across N/5 accounts, for N = 1,000, 10,000 and 100,000, and
 * two tickers (two processes, two connections) at once over 10,000; every
 * figure beside a floor measured in the same run on the same rows: one plain
 * `UPDATE instance_runs SET billed_seconds, billed_cents` over every live run
 * (rolled back), which writes the same run rows and nothing else.
 *
 * Each size gets a fresh database copied from one migrated template (the
 * ledger is append-only, so it cannot be reset), seeded set-based as the app
 * role, vacuumed and analysed by the owner as autovacuum would have by then.
 * After every tick the result is checked: each run debited exactly once, for
 * floor(billable seconds × rate / 3600) cents, and every balance = Σ entries.
 *
 * BENCH_SIZES=1000,10000 narrows the single-ticker sizes; BENCH_CONCURRENT=0
 * skips the two-ticker run (or names its size). A narrowed run prints its
 * table but does not write tests/bench/metering-results.md. BENCH_EXPLAIN=1
 * (a diagnostic) prints EXPLAIN ANALYZE of the tick's statement for its first
 * and its middle batch at every size, rolled back, before the timed tick.
 *
 * Worker mode (`metering.ts --ticker <url>`): connects, says "ready", ticks
 * once when it reads "go" on stdin, prints its TickReport with its times.
 */
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/postgres-js";
import { connect, type DatabaseHandle, schema } from "../../db/client";
import { projectRoot } from "../../src/config";
import { billRuns } from "../../src/metering/bill";
import { billingTick, type TickReport } from "../../src/metering/tick";
import { type BenchCluster, startBenchCluster } from "./databases";
import { benchPricing, benchRuntime, runLine } from "./fixtures";
import { lines } from "./processes";

interface TickerOutput {
  report: TickReport;
  startedAt: number;
  endedAt: number;
}

if (process.argv[2] === "--ticker") {
  await runTicker(process.argv[3]!);
  process.exit(0);
}

/** A second process's tick: connected and warm before "go", so both start together. */
async function runTicker(url: string) {
  const handle = connect(url, { max: 2 });
  await handle.sql`select count(*) from instance_runs`;
  console.log("ready");
  for await (const line of console) {
    if (line.trim() === "go") break;
  }
  const startedAt = performance.timeOrigin + performance.now();
  const report = await billingTick(handle.db);
  const endedAt = performance.timeOrigin + performance.now();
  console.log(JSON.stringify({ report, startedAt, endedAt } satisfies TickerOutput));
  await handle.close();
}

// ---- Plan ---------------------------------------------------------------------
const SIZES = (process.env.BENCH_SIZES ?? "1000,10000,100000").split(",").map(Number);
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 10_000);
const EXPLAIN = process.env.BENCH_EXPLAIN === "1";
/** Measurements per size: this machine's speed drifts by a quarter between minutes, so one can mislead. */
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const NARROWED = EXPLAIN || process.env.BENCH_SIZES !== undefined || process.env.BENCH_CONCURRENT !== undefined;
const RUNS_PER_ACCOUNT = 5;
const TOPUP_CENTS = 100_000;
const GOALS = { s10k: 0.5, s100k: 5, growth: 12 };

const resultsPath = join(projectRoot, "tests/bench/metering-results.md");
const dataDir = join(projectRoot, `.data/bench-metering-${process.pid}`);
const TEMPLATE = "qdz_bench_metering_template";
const log = (line: string) => console.error(`[bench:metering] ${line}`);

let cluster: BenchCluster | undefined;
const children: ReturnType<typeof Bun.spawn>[] = [];

async function cleanup() {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await cluster?.stop().catch((error) => log(`stopping PostgreSQL: ${error}`));
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}

const seconds = (start: number) => (performance.now() - start) / 1000;

/**
 * A checkpoint before anything is timed: seeding 100,000 runs writes far more WAL than a tick, and the
 * checkpoint it triggers would otherwise land inside the measurement that happens to follow it.
 */
const settleWal = () => cluster!.admin.sql.unsafe("checkpoint");

// ---- Databases ------------------------------------------------------------------
/** A fresh database for one measurement: a copy of the migrated template (grants and job schema included). */
const freshDatabase = (name: string) => cluster!.fresh(name);

/**
 * N running runs on N instances across N/5 accounts, each account topped up
 * once (balance = its one entry). Runs started 10 min to 24 h ago at 0.50 to
 * 5.00 €/h and heartbeat now, so each has at least 8 cents to bill. Ids are
 * md5-derived: id order is unrelated to account order, as with random ids.
 */
async function seed(app: DatabaseHandle, runs: number) {
  const accounts = Math.ceil(runs / RUNS_PER_ACCOUNT);
  const acct = (g: string) => `'acct_' || left(md5('acct' || ${g}), 20)`;
  const snapshot = JSON.stringify(benchPricing());
  const runtime = JSON.stringify(benchRuntime);
  await app.sql.begin(async (tx) => {
    await tx.unsafe(`insert into accounts (id, name) select ${acct("g")}, 'bench ' || g from generate_series(1, ${accounts}) g`);
    await tx.unsafe(`insert into ledger_entries (id, account_id, kind, amount_cents, reference, description)
      select 'led_' || left(md5('topup' || g), 20), ${acct("g")}, 'topup', ${TOPUP_CENTS}, 'cs_bench_' || g, 'bench top-up'
      from generate_series(1, ${accounts}) g`);
    await tx.unsafe(`insert into account_balances (account_id, balance_cents) select ${acct("g")}, ${TOPUP_CENTS} from generate_series(1, ${accounts}) g`);
    await tx.unsafe(
      `insert into instances (id, account_id, name, state, model_class, gpu_preferences, gpu_count, tier, pricing_snapshot, runtime_config,
                              provider_id, region, gpu_type, rate_cents_per_hour, current_run_id)
      select 'inst_' || left(md5('inst' || g), 20), ${acct(`((g - 1) / ${RUNS_PER_ACCOUNT} + 1)`)}, 'bench ' || g, 'running', 'llm', '{L4}', 1, 'secure',
             $1::jsonb, $2::jsonb, 'local', 'local', 'L4', 50 + (g * 37) % 451, 'run_' || left(md5('run' || g), 20)
      from generate_series(1, ${runs}) g`,
      [snapshot, runtime],
    );
    await tx.unsafe(`insert into instance_runs (id, instance_id, number, provider_id, region, gpu_type, rate_cents_per_hour, running_at, last_heartbeat_at)
      select 'run_' || left(md5('run' || g), 20), 'inst_' || left(md5('inst' || g), 20), 1, 'local', 'local', 'L4', 50 + (g * 37) % 451,
             now() - make_interval(secs => 600 + random() * 86400), now()
      from generate_series(1, ${runs}) g`);
  });
}

/** The floor: the same live runs' billed seconds and cents written by one plain UPDATE, then rolled back. */
async function floorUpdate(app: DatabaseHandle): Promise<number> {
  const start = performance.now();
  await app.sql
    .begin(async (tx) => {
      await tx.unsafe(`update instance_runs r set
          billed_seconds = floor(extract(epoch from r.last_heartbeat_at - r.running_at))::integer,
          billed_cents = floor(extract(epoch from r.last_heartbeat_at - r.running_at))::bigint * r.rate_cents_per_hour / 3600
        where r.ended_at is null and r.running_at is not null`);
      throw new Rollback();
    })
    .catch((error) => {
      if (!(error instanceof Rollback)) throw error;
    });
  return seconds(start);
}
class Rollback extends Error {}

interface Check {
  runs: number;
  billedOnce: number;
  unbilled: number;
  billedTwice: number;
  wrongCents: number;
  wrongRunRows: number;
  orphanDebits: number;
  balanceMismatches: number;
  debitedCents: number;
}

/**
 * Every run against the ledger, computed here from the seeded times rather
 * than through the tick's own SQL: one debit per run of floor(seconds × rate
 * / 3600), the run's billed columns matching, no debit for an unknown run,
 * and every stored balance equal to the sum of its account's entries.
 */
async function verify(owner: DatabaseHandle): Promise<Check> {
  const [runs] = await owner.sql.unsafe(`
    with debits as (
      select split_part(reference, ':', 2) as run_id, count(*) as n, -sum(amount_cents) as cents
      from ledger_entries where kind = 'debit' group by 1
    ), expected as (
      select id, floor(extract(epoch from last_heartbeat_at - running_at))::bigint as s, rate_cents_per_hour::bigint as rate, billed_seconds, billed_cents
      from instance_runs
    )
    select count(*)::int as runs,
           count(*) filter (where d.n = 1)::int as "billedOnce",
           count(*) filter (where d.n is null)::int as unbilled,
           count(*) filter (where d.n > 1)::int as "billedTwice",
           count(*) filter (where coalesce(d.cents, 0) <> e.s * e.rate / 3600)::int as "wrongCents",
           count(*) filter (where e.billed_seconds <> e.s or e.billed_cents <> e.s * e.rate / 3600)::int as "wrongRunRows",
           (select count(*) from debits where run_id not in (select id from instance_runs))::int as "orphanDebits",
           coalesce(sum(d.cents), 0)::bigint::text as "debitedCents"
    from expected e left join debits d on d.run_id = e.id`);
  const [balances] = await owner.sql.unsafe(`
    select count(*)::int as mismatches from account_balances b
    full join (select account_id, sum(amount_cents) as total from ledger_entries group by 1) l using (account_id)
    where coalesce(b.balance_cents, 0) <> coalesce(l.total, 0)`);
  return { ...(runs as unknown as Omit<Check, "balanceMismatches">), debitedCents: Number(runs!.debitedCents), balanceMismatches: balances!.mismatches };
}

const exact = (check: Check) =>
  check.billedOnce === check.runs &&
  check.unbilled + check.billedTwice + check.wrongCents + check.wrongRunRows + check.orphanDebits + check.balanceMismatches === 0;

// ---- Measurements -------------------------------------------------------------------
interface SingleResult {
  runs: number;
  seedS: number;
  floorS: number;
  tickS: number;
  retickS: number;
  report: TickReport;
  check: Check;
  /** Every repeat's tick, fastest first (the reported one is their median). */
  ticksS?: number[];
}

/** The check that went worst: an inexact repeat is never hidden by the median. */
function worst(checks: Check[]): Check {
  return checks.find((check) => !exact(check)) ?? checks[0]!;
}

async function single(runs: number): Promise<SingleResult> {
  const db = await freshDatabase(`qdz_bench_metering_${runs}`);
  try {
    let start = performance.now();
    await seed(db.app, runs);
    await db.owner.sql.unsafe("vacuum analyze");
    const seedS = seconds(start);
    // Warms this connection's catalog and the table's pages, for the floor and the tick alike.
    await db.app.sql`select count(*) from instance_runs join instances on instances.id = instance_runs.instance_id`;
    await settleWal();
    const floorS = await floorUpdate(db.app);
    await db.owner.sql.unsafe("vacuum analyze instance_runs"); // the floor's dead row versions gone before the tick
    await settleWal();
    if (EXPLAIN) await explainBatches(db.app, runs);
    start = performance.now();
    const report = await billingTick(db.app.db);
    const tickS = seconds(start);
    // Nothing new to bill (heartbeats have not moved): what an idle tick costs over the same live runs.
    start = performance.now();
    const again = await billingTick(db.app.db);
    const retickS = seconds(start);
    if (again.runsBilled !== 0) throw new Error(`a repeated tick billed ${again.runsBilled} runs`);
    const check = await verify(db.owner);
    log(
      `${runs}: seed ${seedS.toFixed(1)} s, floor ${floorS.toFixed(3)} s, tick ${tickS.toFixed(3)} s, re-tick ${retickS.toFixed(3)} s, exact ${exact(check)}`,
    );
    return { runs, seedS, floorS, tickS, retickS, report, check };
  } finally {
    await db.drop();
  }
}

/** The diagnostic: the batch statement billRuns sends, captured through drizzle's logger, explained with its parameters. */
async function explainBatches(app: DatabaseHandle, runs: number) {
  let captured: { query: string; params: unknown[] } | undefined;
  const logger = { logQuery: (query: string, params: unknown[]) => void (query.includes("with claimed") && (captured = { query, params })) };
  const db = drizzle(app.sql, { schema, logger });
  const [middle] = await app.sql<{ id: string }[]>`select id from instance_runs order by id offset ${Math.floor(runs / 2)} limit 1`;
  for (const afterId of ["", middle?.id ?? ""]) {
    await db
      .transaction(async (tx) => {
        await billRuns(tx, { live: true, afterId, limit: 1000 });
        tx.rollback();
      })
      .catch(() => {});
    const plan = await app.sql
      .begin(async (tx) => {
        const rows = await tx.unsafe(`explain (analyze, buffers) ${captured!.query}`, captured!.params as never[]);
        throw new Rollback(rows.map((row) => row["QUERY PLAN"]).join("\n"));
      })
      .catch((error) => (error instanceof Rollback ? error.message : Promise.reject(error)));
    log(`EXPLAIN ANALYZE, ${runs} runs, batch after ${JSON.stringify(afterId)}:\n${plan}`);
  }
}

interface ConcurrentResult {
  runs: number;
  floorS: number;
  wallS: number;
  tickers: { report: TickReport; s: number }[];
  check: Check;
}

async function concurrent(runs: number): Promise<ConcurrentResult> {
  const db = await freshDatabase(`qdz_bench_metering_concurrent_${runs}`);
  try {
    await seed(db.app, runs);
    await db.owner.sql.unsafe("vacuum analyze");
    await db.app.sql`select count(*) from instance_runs join instances on instances.id = instance_runs.instance_id`;
    await settleWal();
    const floorS = await floorUpdate(db.app);
    await db.owner.sql.unsafe("vacuum analyze instance_runs");
    await settleWal();
    const procs = [0, 1].map(() => {
      const proc = Bun.spawn([process.execPath, import.meta.path, "--ticker", db.appUrl], { cwd: projectRoot, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
      children.push(proc);
      return { proc, lines: lines(proc.stdout) };
    });
    for (const { lines } of procs) if ((await lines.next()).value !== "ready") throw new Error("a ticker did not start");
    for (const { proc } of procs) {
      proc.stdin.write("go\n");
      proc.stdin.flush();
    }
    const outputs: TickerOutput[] = [];
    for (const { proc, lines } of procs) {
      const line = (await lines.next()).value;
      if ((await proc.exited) !== 0 || !line) throw new Error(`a ticker failed: ${await new Response(proc.stderr).text()}`);
      outputs.push(JSON.parse(line));
    }
    const wallS = (Math.max(...outputs.map((o) => o.endedAt)) - Math.min(...outputs.map((o) => o.startedAt))) / 1000;
    const check = await verify(db.owner);
    const tickers = outputs.map((o) => ({ report: o.report, s: (o.endedAt - o.startedAt) / 1000 }));
    log(`two tickers on ${runs}: wall ${wallS.toFixed(3)} s, split ${tickers.map((t) => t.report.runsBilled).join(" / ")}, exact ${exact(check)}`);
    return { runs, floorS, wallS, tickers, check };
  } finally {
    await db.drop();
  }
}

// ---- Report -----------------------------------------------------------------------------
const n = (value: number) => value.toLocaleString("en-US");
const s = (value: number) => `${value.toFixed(3)} s`;
const mark = (ok: boolean) => (ok ? "✅" : "❌");

function report(singles: SingleResult[], pair: ConcurrentResult | undefined, meta: { started: Date; elapsedS: number; load: number[][] }): string {
  const bySize = new Map(singles.map((r) => [r.runs, r]));
  const k10 = bySize.get(10_000);
  const k100 = bySize.get(100_000);
  const growth = k10 && k100 ? k100.tickS / k10.tickS : undefined;
  const floorGrowth = k10 && k100 ? k100.floorS / k10.floorS : undefined;
  const out: string[] = [];
  out.push("# `bun run bench:metering` — latest results", "");
  out.push(runLine(meta), "");
  out.push(
    "Each size: a fresh database, N running runs on N instances across N/5 accounts (each account topped up once), seeded set-based, " +
      "vacuumed, analysed and checkpointed (before the floor and before the tick). Timed as the app role with a pool of two connections, as many as the machine has cores: **floor** = one plain " +
      "`UPDATE instance_runs SET billed_seconds, billed_cents` over the same live runs on one connection (rolled back, then vacuumed); " +
      "**tick** = `billingTick(db)` with its defaults (two lanes on the two connections, batches of 2,000 runs, one transaction each: " +
      "claim `FOR UPDATE SKIP LOCKED`, run rows, one ledger debit per run, balances, the two hourly usage rollups (the daily one is folded once a day, off the tick)); " +
      "**re-tick** = an immediate second tick that finds nothing new. " +
      `Each size is measured ${REPEATS} times on fresh seeds and the run with the median tick is shown (every run's ticks listed); read the ratios, not the third decimal.`,
    "",
  );
  out.push("## Goals (issue 11)", "");
  out.push("| goal | target | measured | |", "| --- | --- | ---: | --- |");
  if (k10) out.push(`| one tick, 10,000 runs | ≤ ${GOALS.s10k} s | ${s(k10.tickS)} | ${mark(k10.tickS <= GOALS.s10k)} |`);
  if (k100) out.push(`| one tick, 100,000 runs | ≤ ${GOALS.s100k} s | ${s(k100.tickS)} | ${mark(k100.tickS <= GOALS.s100k)} |`);
  if (growth !== undefined)
    out.push(
      `| growth 100k / 10k | linear, ≤ ${GOALS.growth}× | ${growth.toFixed(1)}× (floor ${floorGrowth!.toFixed(1)}×) | ${mark(growth <= GOALS.growth)} |`,
    );
  if (pair) {
    const split = pair.tickers.map((t) => n(t.report.runsBilled)).join(" / ");
    out.push(
      `| two tickers at once, ${n(pair.runs)} runs | every run billed once | ${split}, ${exact(pair.check) ? "each run once, balances = Σ entries" : "NOT exact"} | ${mark(exact(pair.check))} |`,
    );
  }
  out.push("", "## One ticker", "");
  out.push(
    "| runs | accounts | floor | tick (median) | every tick | tick / floor | re-tick | batches | debits | debited | exact |",
    "| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |",
  );
  for (const r of singles) {
    out.push(
      `| ${n(r.runs)} | ${n(Math.ceil(r.runs / RUNS_PER_ACCOUNT))} | ${s(r.floorS)} | ${s(r.tickS)} | ${(r.ticksS ?? [r.tickS]).map(s).join(", ")} | ${(r.tickS / r.floorS).toFixed(1)}× | ${s(r.retickS)} | ${r.report.batches} | ${n(r.report.debits)} | €${(r.report.debitedCents / 100).toLocaleString("en-US", { minimumFractionDigits: 2 })} | ${mark(exact(r.check))} |`,
    );
  }
  if (singles.length > 1) out.push("", "Per-size growth (tick, floor), against the size before:", "");
  for (let i = 1; i < singles.length; i++) {
    const [a, b] = [singles[i - 1]!, singles[i]!];
    out.push(
      `- ${n(a.runs)} → ${n(b.runs)} (${(b.runs / a.runs).toFixed(0)}× runs): tick ${(b.tickS / a.tickS).toFixed(1)}×, floor ${(b.floorS / a.floorS).toFixed(1)}×`,
    );
  }
  if (pair) {
    out.push("", `## Two tickers at once (${n(pair.runs)} runs)`, "");
    out.push(
      "Two processes (`metering.ts --ticker`), each with its own pool, connected and warm before both are told to start. " +
        "Wall = first start to last finish.",
      "",
    );
    out.push("| ticker | runs billed | debits | batches | time |", "| --- | ---: | ---: | ---: | ---: |");
    for (const [i, t] of pair.tickers.entries()) out.push(`| ${i + 1} | ${n(t.report.runsBilled)} | ${n(t.report.debits)} | ${t.report.batches} | ${s(t.s)} |`);
    out.push("", `Wall ${s(pair.wallS)}; floor on the same rows ${s(pair.floorS)} (wall / floor ${(pair.wallS / pair.floorS).toFixed(1)}×).`);
  }
  out.push("", "## Checks after each tick", "");
  out.push(
    "Recomputed from the seeded times, not through the tick's SQL: debits per run (reference `debit:<run>:<seconds>`) = 1, their sum = floor(billable × rate / 3600), " +
      "the run's `billed_seconds`/`billed_cents` match, no debit for an unknown run, every stored balance = Σ its entries.",
    "",
  );
  out.push(
    "| case | runs | billed once | unbilled | twice | wrong cents | wrong run rows | orphan debits | balance ≠ Σ entries |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  const row = (label: string, c: Check) =>
    `| ${label} | ${n(c.runs)} | ${n(c.billedOnce)} | ${c.unbilled} | ${c.billedTwice} | ${c.wrongCents} | ${c.wrongRunRows} | ${c.orphanDebits} | ${c.balanceMismatches} |`;
  for (const r of singles) out.push(row(`one ticker, ${n(r.runs)}`, r.check));
  if (pair) out.push(row(`two tickers, ${n(pair.runs)}`, pair.check));
  return `${out.join("\n")}\n`;
}

// ---- Main -----------------------------------------------------------------------------------
let exitCode = 0;
try {
  const started = new Date();
  const loadBefore = loadavg();
  // As `npm start` does: migrated by the owner, used as the app role; every measurement copies this database.
  cluster = await startBenchCluster(dataDir, TEMPLATE);

  const singles: SingleResult[] = [];
  for (const size of SIZES) {
    // Each size measured REPEATS times on fresh seeds; the run with the median tick is reported, every run's check counts.
    const runs: SingleResult[] = [];
    for (let i = 0; i < REPEATS; i++) runs.push(await single(size));
    runs.sort((a, b) => a.tickS - b.tickS);
    const median = runs[Math.floor((runs.length - 1) / 2)]!;
    singles.push({ ...median, ticksS: runs.map((r) => r.tickS), check: worst(runs.map((r) => r.check)) });
  }
  const pair = CONCURRENT > 0 ? await concurrent(CONCURRENT) : undefined;

  const markdown = report(singles, pair, { started, elapsedS: (Date.now() - started.getTime()) / 1000, load: [loadBefore, loadavg()] });
  console.log(markdown);
  if (NARROWED) log("narrowed run (BENCH_SIZES/BENCH_CONCURRENT): results file not written");
  else {
    writeFileSync(resultsPath, markdown);
    log(`written to ${resultsPath}`);
  }
  const failed = [...singles.map((r) => r.check), ...(pair ? [pair.check] : [])].some((c) => !exact(c));
  if (failed) {
    log("a check failed: some run was not billed exactly once, or a balance differs from its entries");
    exitCode = 1;
  }
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);

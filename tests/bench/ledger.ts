/**
 * `bun run bench:ledger`: the ledger's reads and the tick's writes at 10,000,000 rows (a 60 s tick over
 * ~17 hours for 10,000 instances; see ledger-seed.ts), each beside the same call on a 100,000-row
 * ledger of the same shape measured in the same run, so the figures are ratios.
 *
 * Reads go through the product's own functions where there is one (`balanceSummary`, `listLedger`,
 * `meteredInstance`, `findBalanceDrift`), on one app-role connection, repeated with the two ledgers
 * alternating so that other load on the machine falls on both; each is explained (EXPLAIN ANALYZE of
 * the statements it sends) for the index that serves it and the pages it touched. The statements these
 * functions sent before this bench are measured beside them ("previous"). Writes: a billing tick
 * (10,000 debits) into the 10 M ledger, the 100 k one and one holding only top-ups (index growth).
 *
 * LEDGER_BENCH_ROWS (default 10,000,000) sizes the large ledger for development runs,
 * LEDGER_BENCH_REPS (25) and LEDGER_BENCH_TICKS (5) the repetitions; a run with any of them set prints
 * its report but does not write tests/bench/ledger-results.md. Every run keeps its figures in
 * .data/bench-ledger-figures.json; `--render` writes the report from them again (after a change to its
 * wording) without seeding again.
 */
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import type postgres from "postgres";
import { connect, type Database, schema } from "../../db/client";
import { balanceSummary } from "../../src/billing/grace";
import { findBalanceDrift, type LedgerQuery, ledgerCursor, listLedger } from "../../src/billing/ledger";
import { projectRoot } from "../../src/config";
import type { AccountContext } from "../../src/context";
import { meteredInstance } from "../../src/metering/metered";
import { billingTick } from "../../src/metering/tick";
import { type BenchCluster, type BenchDatabase, startBenchCluster } from "./databases";
import { currentCommit } from "./fixtures";
import { type Previous, previousMetered, previousPage } from "./ledger-previous";
import { type Plan, type Report, type Row, type Sizes, type Stats, type TickResult, type Walk, writeReport } from "./ledger-report";
import {
  ACCOUNTS,
  HEAVY_ACCOUNT,
  HEAVY_INSTANCE,
  HEAVY_INSTANCES,
  HEAVY_RUNS,
  INSTANCES,
  type Seeded,
  seedLedger,
  TYPICAL_ACCOUNT,
  TYPICAL_INSTANCE,
  ticksFor,
} from "./ledger-seed";

const ROWS = Number(process.env.LEDGER_BENCH_ROWS ?? 10_000_000);
const BASELINE_ROWS = 100_000;
const REPS = Number(process.env.LEDGER_BENCH_REPS ?? 25);
const TICKS = Number(process.env.LEDGER_BENCH_TICKS ?? 5);
const NARROWED = ["LEDGER_BENCH_ROWS", "LEDGER_BENCH_REPS", "LEDGER_BENCH_TICKS"].some((name) => process.env[name] !== undefined);
const GRACE_WINDOW_HOURS = 24;
const PAGE = 25;

const resultsPath = join(projectRoot, "tests/bench/ledger-results.md");
const dataDir = join(projectRoot, `.data/bench-ledger-${process.pid}`);
const TEMPLATE = "qdz_bench_ledger_template";
/** The last run's figures: `bun tests/bench/ledger.ts --render` writes the results file from them again. */
const figuresPath = join(projectRoot, ".data/bench-ledger-figures.json");
const log = (line: string) => console.error(`[bench:ledger] ${line}`);

if (process.argv[2] === "--render") {
  const figures = JSON.parse(await Bun.file(figuresPath).text());
  const markdown = writeReport({ ...figures, started: new Date(figures.started) });
  if (figures.narrowed) console.log(markdown);
  else {
    writeFileSync(resultsPath, markdown);
    log(`${resultsPath} written again from ${figuresPath}`);
  }
  process.exit(0);
}

let cluster: BenchCluster | undefined;
async function cleanup() {
  await cluster?.stop().catch((error) => log(`stopping PostgreSQL: ${error}`));
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}

// ---- Ledgers ----------------------------------------------------------------------------
interface Statement {
  query: string;
  params: unknown[];
}

/** One seeded ledger: its database, a drizzle over the app role that records what it sends, and its landmarks. */
interface Ledger {
  label: string;
  bench: BenchDatabase;
  db: Database;
  /** The connection (or transaction) `db` uses, for EXPLAIN. */
  client: postgres.Sql;
  seeded: Seeded;
  seedS: number;
  /** Where a deep page starts: the middle of each account's ledger, as listLedger's cursor and as the previous one. */
  deep: Record<"heavy" | "typical" | "instance", { cursor: string; previous: { createdAt: Date; id: string }; offset: number }>;
  counts: Record<"heavy" | "typical" | "instance", number>;
  /** Statements sent while `recording` is set. */
  recording?: Statement[];
}

/** Seeds a ledger; `reads` also finds the landmarks the reads need (the top-ups-only ledger is only ticked). */
async function openLedger(label: string, name: string, ticks: number, reads = true): Promise<Ledger> {
  const bench = await cluster!.fresh(name);
  const start = performance.now();
  const seeded = await seedLedger(bench.app, { ticks, log: (line) => log(`${label}: ${line}`) });
  await bench.owner.sql.unsafe("vacuum (analyze) ledger_entries");
  await bench.owner.sql.unsafe("vacuum (analyze)");
  const seedS = (performance.now() - start) / 1000;
  log(`${label}: ${seeded.rows.toLocaleString("en-US")} rows seeded, vacuumed and analysed in ${seedS.toFixed(0)} s`);
  const ledger: Ledger = { label, bench, client: bench.app.sql, db: undefined as never, seeded, seedS, deep: {} as never, counts: {} as never };
  ledger.db = recorded(ledger);
  if (!reads) return ledger;
  for (const [key, account, instance] of [
    ["heavy", HEAVY_ACCOUNT, null],
    ["typical", TYPICAL_ACCOUNT, null],
    ["instance", HEAVY_ACCOUNT, HEAVY_INSTANCE],
  ] as const) {
    const filter = instance ? sql`account_id = ${account} and instance_id = ${instance}` : sql`account_id = ${account}`;
    const [count] = await ledger.db.execute<{ n: number }>(sql`select count(*)::integer as n from ledger_entries where ${filter}`);
    const offset = Math.floor(count!.n / 2);
    const [middle] = await ledger.db.execute<{ at: string; id: string }>(sql`
      select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at, id from ledger_entries
      where ${filter} order by created_at desc, id desc offset ${offset} limit 1`);
    ledger.counts[key] = count!.n;
    ledger.deep[key] = { cursor: ledgerCursor(middle!.at, middle!.id), previous: { createdAt: new Date(middle!.at), id: middle!.id }, offset };
  }
  return ledger;
}

/** A drizzle over the ledger's client that records the statements it sends while `recording` is set. */
const recorded = (ledger: Ledger) =>
  drizzle(ledger.client, { schema, logger: { logQuery: (query, params) => void ledger.recording?.push({ query, params }) } });

/**
 * Runs `fn` over copies of the ledgers whose reads go through an owner's transaction that first ran `ddl` and is
 * rolled back after: the same reads on other indexes, nothing kept. The transactions (one per database) are open
 * together, so the repetitions still alternate between the ledgers. `ddlMs`: how long `ddl` took in each.
 */
async function onIndexes<T>(ledgers: Ledger[], ddl: string[], fn: (copies: Ledger[], ddlMs: number[]) => Promise<T>): Promise<T> {
  const open = async (i: number, copies: Ledger[], ddlMs: number[]): Promise<T> => {
    if (i === ledgers.length) return fn(copies, ddlMs);
    let out: T | undefined;
    await ledgers[i]!.bench.owner.sql.begin(async (tx) => {
      const start = performance.now();
      for (const statement of ddl) await tx.unsafe(statement);
      // drizzle reads the pool's options (its type parsers), which a transaction does not carry: the owner pool's serve.
      const client = Object.assign(tx, { options: ledgers[i]!.bench.owner.sql.options }) as unknown as postgres.Sql;
      const copy: Ledger = { ...ledgers[i]!, client, recording: undefined };
      copy.db = recorded(copy);
      out = await open(i + 1, [...copies, copy], [...ddlMs, performance.now() - start]);
      throw new RolledBack();
    }).catch((error) => {
      if (!(error instanceof RolledBack)) throw error;
    });
    return out!;
  };
  return open(0, [], []);
}
class RolledBack extends Error {}

const contextOf = (ledger: Ledger, accountId: string): AccountContext => ({ db: ledger.db, accountId, role: "owner", actor: { kind: "system" } });

// ---- Timing ---------------------------------------------------------------------------------
function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { medianMs: at(0.5), p95Ms: at(0.95), n: sorted.length };
}

/** EXPLAIN (ANALYZE, BUFFERS) of every statement `fn` sends, run again (read-only statements only). */
async function explain(ledger: Ledger, fn: () => Promise<unknown>): Promise<Plan> {
  ledger.recording = [];
  await fn();
  const statements = ledger.recording;
  ledger.recording = undefined;
  const plan: Plan = { servedBy: [], pages: 0 };
  for (const statement of statements) {
    const [row] = await ledger.client.unsafe(`explain (analyze, buffers, format json) ${statement.query}`, statement.params as never[]);
    const root = (row!["QUERY PLAN"] as { Plan: PlanNode }[])[0]!.Plan;
    plan.pages += (root["Shared Hit Blocks"] ?? 0) + (root["Shared Read Blocks"] ?? 0);
    const visit = (node: PlanNode) => {
      if (node["Index Name"]) plan.servedBy.push(`${node["Node Type"] === "Index Only Scan" ? "index-only " : ""}${node["Index Name"]}`);
      else if (node["Node Type"] === "Seq Scan") plan.servedBy.push(`seq scan ${node["Relation Name"]}`);
      for (const child of node.Plans ?? []) visit(child);
    };
    visit(root);
  }
  plan.servedBy = [...new Set(plan.servedBy)];
  return plan;
}
interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Relation Name"?: string;
  "Shared Hit Blocks"?: number;
  "Shared Read Blocks"?: number;
  Plans?: PlanNode[];
}

interface Probe {
  key: string;
  label: string;
  group: "balance" | "page" | "metered" | "usage" | "check";
  /** The product function it calls, or what the statement is. */
  via: string;
  run: (ledger: Ledger) => Promise<unknown>;
  reps?: number;
  /** Not read-only, or too slow to explain twice. */
  noExplain?: boolean;
}

/** One warm-up call each, then `reps` calls alternating between the ledgers. */
type Measured = Row & { probe: Probe };

async function measure(ledgers: Ledger[], probe: Probe): Promise<Measured> {
  const samples: number[][] = ledgers.map(() => []);
  const results: unknown[] = [];
  for (const ledger of ledgers) results.push(await probe.run(ledger));
  for (let i = 0; i < (probe.reps ?? REPS); i++) {
    for (const [j, ledger] of ledgers.entries()) {
      const start = performance.now();
      await probe.run(ledger);
      samples[j]!.push(performance.now() - start);
    }
  }
  const byLedger = [];
  for (const [j, ledger] of ledgers.entries()) {
    byLedger.push({ stats: stats(samples[j]!), plan: probe.noExplain ? undefined : await explain(ledger, () => probe.run(ledger)), result: results[j] });
  }
  const [a, b] = byLedger;
  log(`${probe.label}: ${a!.stats.medianMs.toFixed(2)} ms → ${b?.stats.medianMs.toFixed(2)} ms (${b?.plan?.servedBy.join(", ") ?? ""})`);
  return { probe, byLedger };
}

// ---- Probes -------------------------------------------------------------------------------------
const page = (accountId: string, query: Partial<LedgerQuery>) => (ledger: Ledger) => listLedger(ledger.db, accountId, { limit: PAGE, ...query });

function probes(): Probe[] {
  const monthAgo = (ledger: Ledger) => sql`${ledger.seeded.base}::timestamptz - interval '30 days'`;
  return [
    {
      key: "balance-heavy",
      group: "balance",
      label: "balance, heavy account",
      via: "balanceSummary",
      run: (l) => balanceSummary(l.db, HEAVY_ACCOUNT, GRACE_WINDOW_HOURS),
    },
    {
      key: "balance-typical",
      group: "balance",
      label: "balance, typical account",
      via: "balanceSummary",
      run: (l) => balanceSummary(l.db, TYPICAL_ACCOUNT, GRACE_WINDOW_HOURS),
    },
    {
      key: "balance-sum",
      group: "balance",
      label: "Σ entries instead (heavy account)",
      via: "sum(amount_cents) where account_id",
      run: (l) => l.db.execute(sql`select sum(amount_cents)::text as cents from ledger_entries where account_id = ${HEAVY_ACCOUNT}`),
      reps: 5,
    },
    { key: "page-heavy", group: "page", label: "first page, heavy account", via: "listLedger", run: page(HEAVY_ACCOUNT, {}) },
    { key: "page-typical", group: "page", label: "first page, typical account", via: "listLedger", run: page(TYPICAL_ACCOUNT, {}) },
    {
      key: "deep-heavy",
      group: "page",
      label: "deep page (middle), heavy account",
      via: "listLedger + cursor",
      run: (l) => page(HEAVY_ACCOUNT, { cursor: l.deep.heavy.cursor })(l),
    },
    {
      key: "deep-typical",
      group: "page",
      label: "deep page (middle), typical account",
      via: "listLedger + cursor",
      run: (l) => page(TYPICAL_ACCOUNT, { cursor: l.deep.typical.cursor })(l),
    },
    { key: "debit-heavy", group: "page", label: "kind = debit, heavy account", via: "listLedger", run: page(HEAVY_ACCOUNT, { kind: "debit" }) },
    { key: "topup-heavy", group: "page", label: "kind = topup, heavy account", via: "listLedger", run: page(HEAVY_ACCOUNT, { kind: "topup" }) },
    { key: "topup-typical", group: "page", label: "kind = topup, typical account", via: "listLedger", run: page(TYPICAL_ACCOUNT, { kind: "topup" }) },
    {
      key: "refund-typical",
      group: "page",
      label: "kind = refund, typical account (none)",
      via: "listLedger",
      run: page(TYPICAL_ACCOUNT, { kind: "refund" }),
    },
    {
      key: "instance-first",
      group: "page",
      label: "instance filter, first page (43k-debit instance)",
      via: "listLedger",
      run: page(HEAVY_ACCOUNT, { instanceId: HEAVY_INSTANCE }),
    },
    {
      key: "instance-deep",
      group: "page",
      label: "instance filter, deep page (43k-debit instance)",
      via: "listLedger + cursor",
      run: (l) => page(HEAVY_ACCOUNT, { instanceId: HEAVY_INSTANCE, cursor: l.deep.instance.cursor })(l),
    },
    {
      key: "metered-heavy",
      group: "metered",
      label: `metered view, 43k-debit instance (${HEAVY_RUNS} runs)`,
      via: "meteredInstance",
      run: (l) => meteredInstance(contextOf(l, HEAVY_ACCOUNT), HEAVY_INSTANCE),
    },
    {
      key: "metered-typical",
      group: "metered",
      label: "metered view, typical instance",
      via: "meteredInstance",
      run: (l) => meteredInstance(contextOf(l, TYPICAL_ACCOUNT), TYPICAL_INSTANCE),
    },
    {
      key: "usage-instance-month",
      group: "usage",
      label: "a month of one instance's debits by hour (43k rows → 720)",
      via: "group by date_trunc('hour') on the ledger",
      run: (l) =>
        l.db.execute(sql`
          select date_trunc('hour', created_at) as hour, -sum(amount_cents)::bigint as cents from ledger_entries
          where instance_id = ${HEAVY_INSTANCE} and kind = 'debit' and created_at >= ${monthAgo(l)}
          group by 1 order by 1`),
      reps: 10,
    },
    {
      key: "usage-account-day",
      group: "usage",
      label: `a day of the heavy account's debits by hour (${HEAVY_INSTANCES} instances)`,
      via: "group by date_trunc('hour') on the ledger",
      run: (l) =>
        l.db.execute(sql`
          select date_trunc('hour', created_at) as hour, -sum(amount_cents)::bigint as cents from ledger_entries
          where account_id = ${HEAVY_ACCOUNT} and kind = 'debit' and created_at >= ${l.seeded.base}::timestamptz - interval '24 hours'
          group by 1 order by 1`),
      reps: 5,
    },
    {
      key: "rollup-account-month",
      group: "usage",
      label: "the heavy account's month by hour, from an hourly rollup",
      via: "bench_usage_hourly (instance, hour)",
      run: (l) =>
        l.db.execute(sql`
          select hour, sum(debited_cents)::bigint as cents from bench_usage_hourly
          where account_id = ${HEAVY_ACCOUNT} and hour >= ${monthAgo(l)} group by 1 order by 1`),
    },
    {
      key: "rollup-instance-month",
      group: "usage",
      label: "one instance's month by hour, from an hourly rollup",
      via: "bench_usage_hourly (instance, hour)",
      run: (l) =>
        l.db.execute(sql`
          select hour, debited_cents from bench_usage_hourly
          where instance_id = ${HEAVY_INSTANCE} and hour >= ${monthAgo(l)} order by 1`),
    },
  ];
}

/**
 * The statements these functions sent before this bench, at the same inputs, on the indexes there were then (the
 * rare kinds' index dropped): the figures the changes were made on.
 */
const PREVIOUS_SCHEMA = ["drop index ledger_entries_account_kind_created_idx"];

function previousProbes(): Probe[] {
  const kind = (key: string, label: string, accountId: string, filter: "topup" | "refund"): Probe => ({
    key,
    group: "page",
    label,
    via: "previous listLedger",
    run: (l) => previousPage(l.db, accountId, { limit: PAGE, kind: filter }),
    reps: 5,
  });
  return [
    {
      key: "previous-deep-heavy",
      group: "page",
      label: "deep page (middle), heavy account: `created_at < … or (created_at = … and id < …)`",
      via: "previous listLedger",
      run: (l) => previousPage(l.db, HEAVY_ACCOUNT, { limit: PAGE, after: l.deep.heavy.previous }),
      reps: 5,
    },
    {
      key: "previous-instance-deep",
      group: "page",
      label: "instance filter, deep page: the same",
      via: "previous listLedger",
      run: (l) => previousPage(l.db, HEAVY_ACCOUNT, { limit: PAGE, instanceId: HEAVY_INSTANCE, after: l.deep.instance.previous }),
      reps: 5,
    },
    kind("previous-topup-heavy", "kind = topup, heavy account, without the rare kinds' index", HEAVY_ACCOUNT, "topup"),
    kind("previous-refund-typical", "kind = refund, typical account (none), without the rare kinds' index", TYPICAL_ACCOUNT, "refund"),
    {
      key: "previous-metered-heavy",
      group: "metered",
      label: "metered view, 43k-debit instance: each run joined to the instance's entries by reference",
      via: "previous meteredInstance statement",
      run: (l) => previousMetered(l.db, HEAVY_ACCOUNT, HEAVY_INSTANCE),
      reps: 3,
    },
  ];
}

/**
 * An index not taken: (instance_id, created_at, id) in place of (instance_id). It would serve the instance filter
 * from the instance's own range, but its keys are unique, so btree deduplication no longer folds an instance's
 * thousands of entries into one key: its size is the price.
 */
const INSTANCE_TIME_INDEX = [
  "create index ledger_entries_instance_created_idx on ledger_entries (instance_id, created_at, id)",
  "drop index ledger_entries_instance_idx",
];

function instanceTimeProbes(): Probe[] {
  return probes().filter((probe) => ["instance-first", "instance-deep", "metered-heavy"].includes(probe.key));
}

// ---- Checks -------------------------------------------------------------------------------------
/** Pages through the newest `limit` entries of an account with listLedger and with the previous cursor, against one ordered read. */
async function walk(ledger: Ledger, accountId: string, limit: number): Promise<Walk> {
  const truth = (
    await ledger.db.execute<{ id: string }>(sql`select id from ledger_entries where account_id = ${accountId} order by created_at desc, id desc limit ${limit}`)
  ).map((row) => row.id);
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const result = await listLedger(ledger.db, accountId, { limit: PAGE, cursor });
    seen.push(...result.entries.map((entry) => entry.id));
    cursor = result.nextCursor;
    pages += 1;
  } while (cursor && seen.length < truth.length);
  const previous: string[] = [];
  let after: Previous | undefined;
  for (let i = 0; i < pages; i++) {
    const { entries, more } = await previousPage(ledger.db, accountId, { limit: PAGE, after });
    previous.push(...entries.map((entry) => entry.id));
    if (!more) break;
    after = entries.at(-1)!;
  }
  const inTruth = new Set(truth);
  const window = (ids: string[]) => ids.slice(0, truth.length);
  const sameWindow = window(seen);
  const seenSet = new Set(sameWindow);
  return {
    entries: truth.length,
    pages,
    skipped: truth.filter((id) => !seenSet.has(id)).length,
    repeated: sameWindow.length - new Set(sameWindow).size,
    // The previous pages cover the same number of pages: every entry of the window they never reached was skipped.
    previousSkipped: truth.length - window(previous).filter((id) => inTruth.has(id)).length,
  };
}

// ---- Writes, sizes ------------------------------------------------------------------------------
/** Billing ticks of 10,000 live runs, heartbeats moved 60 s before each: one warm-up, then `TICKS` alternating between the ledgers. */
async function ticks(ledgers: Ledger[]): Promise<TickResult[]> {
  const advance = (ledger: Ledger) =>
    ledger.bench.app
      .sql`update instance_runs set last_heartbeat_at = last_heartbeat_at + interval '60 seconds' where ended_at is null and running_at is not null`;
  const samples: number[][] = ledgers.map(() => []);
  const reports: { debits: number; batches: number }[][] = ledgers.map(() => []);
  for (const ledger of ledgers) {
    await advance(ledger);
    await billingTick(ledger.bench.app.db);
  }
  for (let i = 0; i < TICKS; i++) {
    for (const [j, ledger] of ledgers.entries()) {
      await advance(ledger);
      const start = performance.now();
      const report = await billingTick(ledger.bench.app.db);
      samples[j]!.push(performance.now() - start);
      reports[j]!.push(report);
    }
  }
  return ledgers.map((ledger, j) => {
    const tick = stats(samples[j]!);
    const batches = reports[j]![0]!.batches;
    if (reports[j]!.some((report) => report.debits !== INSTANCES)) throw new Error(`${ledger.label}: a tick did not post ${INSTANCES} debits`);
    log(`tick, ${ledger.label}: ${tick.medianMs.toFixed(0)} ms`);
    return { stats: tick, perBatch: stats(samples[j]!.map((ms) => ms / batches)), debits: INSTANCES, batches };
  });
}

async function sizes(ledger: Ledger): Promise<Sizes> {
  // pageinspect (the btree's levels) needs a superuser, in this database.
  const superuser = connect(`${cluster!.postgres.baseUrl}/${ledger.bench.name}`, { max: 1 });
  try {
    await superuser.sql.unsafe("create extension if not exists pageinspect");
    const [table] = await superuser.sql.unsafe(`select (select count(*) from ledger_entries)::bigint::text as rows,
      pg_relation_size('ledger_entries')::text as heap, pg_table_size('ledger_entries')::text as "table",
      pg_total_relation_size('ledger_entries')::text as total`);
    const indexes = await superuser.sql.unsafe(`select c.relname as name, pg_relation_size(c.oid)::text as bytes, (bt_metap(c.relname)).level + 1 as levels
      from pg_index i join pg_class c on c.oid = i.indexrelid where i.indrelid = 'ledger_entries'::regclass order by c.relname`);
    return {
      rows: Number(table!.rows),
      heapBytes: Number(table!.heap),
      tableBytes: Number(table!.table),
      totalBytes: Number(table!.total),
      indexes: indexes.map((row) => ({ name: row.name, bytes: Number(row.bytes), levels: row.levels })),
    };
  } finally {
    await superuser.close();
  }
}

/** The hourly rollup issue 12 would keep (per instance and hour), built here from the ledger once to time reading it. */
async function buildRollup(ledger: Ledger): Promise<number> {
  const start = performance.now();
  await ledger.bench.owner.sql.unsafe(`
    create table bench_usage_hourly as
      select account_id, instance_id, date_trunc('hour', created_at) as hour,
             (-sum(amount_cents) filter (where kind = 'debit'))::bigint as debited_cents,
             coalesce(sum(amount_cents) filter (where kind = 'refund'), 0)::bigint as refunded_cents
      from ledger_entries where instance_id is not null group by 1, 2, 3;
    create index on bench_usage_hourly (account_id, hour);
    create unique index on bench_usage_hourly (instance_id, hour);
    grant select on bench_usage_hourly to public;
    analyze bench_usage_hourly`);
  return (performance.now() - start) / 1000;
}

/**
 * While seeding only: checkpoints far apart, so that the random inserts into the primary key and (account_id,
 * reference) do not write each page's full image to the WAL again after every checkpoint (13 % of a 3 M seed).
 * The defaults are back, after a checkpoint, before anything is measured.
 */
async function seedingWal(seeding: boolean) {
  const admin = cluster!.admin.sql;
  if (seeding) {
    await admin.unsafe("alter system set max_wal_size = '16GB'");
    await admin.unsafe("alter system set checkpoint_timeout = '1h'");
  } else {
    await admin.unsafe("alter system reset max_wal_size");
    await admin.unsafe("alter system reset checkpoint_timeout");
  }
  await admin.unsafe("select pg_reload_conf()");
  if (!seeding) await admin.unsafe("checkpoint");
}

async function timeOnce<T>(fn: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = performance.now();
  const result = await fn();
  return { ms: performance.now() - start, result };
}

// ---- Main ---------------------------------------------------------------------------------------
let exitCode = 0;
try {
  const started = new Date();
  const commit = currentCommit();
  const loadBefore = loadavg();
  cluster = await startBenchCluster(dataDir, TEMPLATE);
  await seedingWal(true);
  const baseline = await openLedger(`${(BASELINE_ROWS / 1000).toFixed(0)}k`, "qdz_bench_ledger_baseline", ticksFor(BASELINE_ROWS));
  const large = await openLedger(`${ROWS >= 1e6 ? `${ROWS / 1e6}M` : `${ROWS / 1000}k`}`, "qdz_bench_ledger_large", ticksFor(ROWS));
  await seedingWal(false);
  const ledgers = [baseline, large];

  const rollupS: number[] = [];
  for (const ledger of ledgers) rollupS.push(await buildRollup(ledger));
  const measured: Measured[] = [];
  for (const probe of probes()) measured.push(await measure(ledgers, probe));
  const previous = await onIndexes(ledgers, PREVIOUS_SCHEMA, async (copies) => {
    const out: Measured[] = [];
    for (const probe of previousProbes()) out.push(await measure(copies, probe));
    return out;
  });
  const alternative = await onIndexes(ledgers, INSTANCE_TIME_INDEX, async (copies, ddlMs) => {
    const out: Measured[] = [];
    for (const probe of instanceTimeProbes()) out.push(await measure(copies, probe));
    const bytes = [];
    for (const copy of copies) {
      const [row] = await copy.client.unsafe("select pg_relation_size('ledger_entries_instance_created_idx')::text as bytes");
      bytes.push(Number(row!.bytes));
    }
    return { measured: out, bytes, buildMs: ddlMs };
  });

  const walks = [];
  for (const ledger of ledgers) {
    walks.push({ heavy: await walk(ledger, HEAVY_ACCOUNT, 2_000), typical: await walk(ledger, TYPICAL_ACCOUNT, ledger.counts.typical) });
  }
  const sized = [];
  for (const ledger of ledgers) sized.push(await sizes(ledger));

  const empty = await openLedger("top-ups only", "qdz_bench_ledger_empty", 0, false);
  const tickResults = await ticks([empty, baseline, large]);
  const drift = [];
  for (const ledger of ledgers) drift.push(await timeOnce(() => findBalanceDrift(ledger.db)));

  const [rollups] = await large.db.execute<{ present: boolean }>(sql`select to_regclass('instance_usage_hourly') is not null as present`);
  const report: Report = {
    started,
    commit,
    usageRollups: rollups!.present,
    elapsedS: (Date.now() - started.getTime()) / 1000,
    load: [loadBefore, loadavg()],
    ledgers: ledgers.map((ledger, i) => ({
      label: ledger.label,
      rows: ledger.seeded.rows,
      seedS: ledger.seedS,
      ticks: ticksFor(i === 0 ? BASELINE_ROWS : ROWS),
      counts: ledger.counts,
      rollupS: rollupS[i]!,
    })),
    shape: { accounts: ACCOUNTS, instances: INSTANCES, heavyInstances: HEAVY_INSTANCES, heavyRuns: HEAVY_RUNS },
    measured,
    previous,
    alternative,
    walks,
    sizes: sized,
    ticks: tickResults,
    tickLabels: [empty.label, baseline.label, large.label],
    drift: drift.map((d) => ({ ms: d.ms, accounts: d.result.length })),
  };
  // Without the reads' own results: the figures, to render the report again (`--render`) without seeding again.
  const strip = (rows: Row[]) => rows.map((r) => ({ probe: r.probe, byLedger: r.byLedger.map(({ stats, plan }) => ({ stats, plan })) }));
  const figures = {
    ...report,
    narrowed: NARROWED,
    measured: strip(measured),
    previous: strip(previous),
    alternative: { ...alternative, measured: strip(alternative.measured) },
  };
  writeFileSync(figuresPath, JSON.stringify(figures, null, 2));
  const markdown = writeReport(report);
  console.log(markdown);
  if (NARROWED) log("narrowed run (LEDGER_BENCH_*): results file not written");
  else {
    writeFileSync(resultsPath, markdown);
    log(`written to ${resultsPath}`);
  }
  const failures = [
    ...drift.filter((d) => d.result.length > 0).map(() => "a stored balance differs from Σ its entries"),
    ...walks
      .flatMap((w) => [w.heavy, w.typical])
      .filter((w) => w.skipped + w.repeated > 0)
      .map(() => "listLedger skipped or repeated an entry"),
    ...measured
      .filter((m) => m.probe.key === "metered-heavy")
      .flatMap((m) => m.byLedger)
      .filter(
        (b, i) => JSON.stringify(meteredSums(b.result)) !== JSON.stringify(previous.find((p) => p.probe.key === "previous-metered-heavy")!.byLedger[i]!.result),
      )
      .map(() => "meteredInstance's sums differ from the previous statement's"),
  ];
  for (const failure of failures) log(`check failed: ${failure}`);
  if (failures.length) exitCode = 1;
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);

/** The metered view's per-run sums in the previous statement's shape, to compare the two. */
function meteredSums(result: unknown) {
  const runs = (result as Awaited<ReturnType<typeof meteredInstance>>).runs;
  return runs.map((run) => ({ id: run.run_id, debited: run.debited_cents, refunded: run.refunded_cents }));
}

/**
 * `bun run bench:usage`: the usage queries (src/usage) timed on the data issue 12 names, each beside baselines
 * measured in the same run on the same rows:
 *
 * - `instanceUsage` for an instance with 90 days of one-minute ticks: 129,600 debits of one run in the ledger,
 *   rolled up by the rollups migration's own backfill (timed too); baseline: the same 90 daily sums straight
 *   from the ledger.
 * - `accountUsage` for an account with 1,000 instances that all ran the whole 90 days: 2.16 million instance
 *   hours, 90,000 instance days, 2,160 account hours (written set-based, as ticks would have); baseline: the
 *   bars and the ranking from the instance hours alone, without the account and daily rollups.
 * - A round trip (`select 1`) on the same connection: the floor of any query at that moment.
 *
 * Every range of both is timed (median and p95 of RUNS calls after warm-up, through the domain functions with
 * the database's clock, as the api calls them), and checked: buckets and rankings against the rows they sum,
 * the one-minute instance against its ledger to the cent. The goal is ≤ 100 ms for each 90d answer.
 * BENCH_RUNS narrows the sample (then the results file is not written); BENCH_EXPLAIN=1 (a diagnostic) prints
 * EXPLAIN ANALYZE of every statement the two 90d answers send.
 */
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import { type DatabaseHandle, schema } from "../../db/client";
import { projectRoot } from "../../src/config";
import type { AccountContext } from "../../src/context";
import { accountUsage } from "../../src/usage/account";
import { findUsageDrift } from "../../src/usage/drift";
import { instanceUsage } from "../../src/usage/instance";
import { type UsageRange, usageRanges } from "../../src/usage/types";
import { usageBackfillSql } from "../support/usage";
import { type BenchCluster, startBenchCluster } from "./databases";
import { benchPricing, benchRuntime, runLine } from "./fixtures";

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const WARMUP = 3;
const BASELINE_RUNS = 5;
const EXPLAIN = process.env.BENCH_EXPLAIN === "1";
const NARROWED = EXPLAIN || process.env.BENCH_RUNS !== undefined;
const GOAL_MS = 100;
const ZONE = "Europe/Berlin";
const DAYS = 90;
const BIG_INSTANCES = 1_000;
const MINUTE_RATE = 180; // c/h: 3 cents a minute

const resultsPath = join(projectRoot, "tests/bench/usage-results.md");
const dataDir = join(projectRoot, `.data/bench-usage-${process.pid}`);
const log = (line: string) => console.error(`[bench:usage] ${line}`);

let cluster: BenchCluster | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void (cluster?.stop() ?? Promise.resolve()).finally(() => process.exit(130)));
}

const ONE = { account: "acct_bench_one", instance: "inst_bench_minute", run: "run_bench_minute" };
const BIG = "acct_bench_big";

const snapshot = JSON.stringify(benchPricing());
const runtime = JSON.stringify(benchRuntime);
const instanceColumns = "id, account_id, name, state, model_class, gpu_preferences, gpu_count, tier, pricing_snapshot, runtime_config, created_at";

/** The one-minute instance: 90 days of ticks, each a 3-cent debit `debit:<run>:<seconds>` dated on its minute. */
async function seedMinuteTicks(owner: DatabaseHandle) {
  await owner.sql.begin(async (tx) => {
    await tx.unsafe(`create temporary table t0 on commit drop as select date_trunc('minute', now()) - interval '${DAYS} days' as at`);
    await tx.unsafe(`insert into accounts (id, name, created_at) select '${ONE.account}', 'one instance', at - interval '30 days' from t0`);
    await tx.unsafe(
      `insert into instances (${instanceColumns}) select '${ONE.instance}', '${ONE.account}', 'minute ticks', 'running', 'llm', '{L4}', 1, 'secure', $1::jsonb, $2::jsonb, at from t0`,
      [snapshot, runtime],
    );
    const minutes = DAYS * 24 * 60;
    await tx.unsafe(`insert into instance_runs (id, instance_id, number, rate_cents_per_hour, running_at, last_heartbeat_at, billed_seconds, billed_cents)
      select '${ONE.run}', '${ONE.instance}', 1, ${MINUTE_RATE}, at, at + interval '${minutes} minutes', ${minutes * 60}, ${minutes * 3} from t0`);
    await tx.unsafe(`insert into ledger_entries (id, account_id, kind, amount_cents, reference, instance_id, created_at)
      select 'led_m' || g, '${ONE.account}', 'debit', -3, 'debit:${ONE.run}:' || (g * 60), '${ONE.instance}', at + g * interval '1 minute'
      from t0, generate_series(1, ${minutes}) g`);
    await tx.unsafe(`insert into account_balances (account_id, balance_cents) values ('${ONE.account}', ${-minutes * 3})`);
  });
}

/** The big account: 1,000 instances that ran every hour of the 90 days, written straight into the rollups. */
async function seedBigAccount(owner: DatabaseHandle) {
  await owner.sql.begin(async (tx) => {
    await tx.unsafe(`insert into accounts (id, name, created_at) values ('${BIG}', 'a thousand instances', now() - interval '120 days')`);
    await tx.unsafe(
      `insert into instances (${instanceColumns})
       select 'inst_big_' || lpad(i::text, 4, '0'), '${BIG}', 'big ' || i, 'running', 'llm', '{L4}', 1, 'secure', $1::jsonb, $2::jsonb, now() - interval '${DAYS + 1} days'
       from generate_series(1, ${BIG_INSTANCES}) i`,
      [snapshot, runtime],
    );
    // Each instance bills its whole rate every hour: 50 to 500 c/h.
    await tx.unsafe(`insert into instance_usage_hourly (instance_id, hour, account_id, cost_cents, billable_seconds, refunded_cents)
      select 'inst_big_' || lpad(i::text, 4, '0'), h, '${BIG}', 50 + (i * 37) % 451, 3600, 0
      from generate_series(1, ${BIG_INSTANCES}) i,
           generate_series(date_trunc('hour', now(), 'UTC') - interval '${DAYS * 24} hours', date_trunc('hour', now(), 'UTC'), interval '1 hour') h`);
    await tx.unsafe(`insert into instance_usage_daily (instance_id, day, account_id, cost_cents, billable_seconds, refunded_cents)
      select instance_id, date_trunc('day', hour, 'UTC'), account_id, sum(cost_cents), sum(billable_seconds), sum(refunded_cents)
      from instance_usage_hourly where account_id = '${BIG}' group by 1, 2, 3`);
    await tx.unsafe(`insert into account_usage_hourly (account_id, hour, cost_cents, billable_seconds, refunded_cents)
      select account_id, hour, sum(cost_cents), sum(billable_seconds), sum(refunded_cents)
      from instance_usage_hourly where account_id = '${BIG}' group by 1, 2`);
  });
}

interface Timing {
  median: number;
  p95: number;
  runs: number;
}

async function time(runs: number, fn: () => Promise<unknown>, warmup = WARMUP): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    ms.push(performance.now() - start);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor((runs - 1) / 2)]!, p95: ms[Math.min(runs - 1, Math.ceil(runs * 0.95) - 1)]!, runs };
}

const ctxOf = (app: DatabaseHandle, accountId: string): AccountContext => ({ db: app.db, accountId, role: "owner", actor: { kind: "system" } });
const sum = <T>(items: T[], of: (item: T) => number) => items.reduce((total, item) => total + of(item), 0);

interface Checks {
  instanceAgainstLedger: boolean;
  accountBarsAgainstHours: boolean;
  rankingAgainstHours: boolean;
  stacksAddUp: boolean;
  drift: number;
}

/** Every answer against the rows it sums, computed here without the usage code's SQL. */
async function check(app: DatabaseHandle, owner: DatabaseHandle): Promise<Checks> {
  const one = await instanceUsage(ctxOf(app, ONE.account), { instanceId: ONE.instance, range: "90d", timeZone: ZONE });
  const [ledger] = await owner.sql.unsafe(
    `select coalesce(-sum(amount_cents), 0)::bigint::text as cents from ledger_entries where instance_id = $1 and created_at >= $2 and created_at < $3`,
    [ONE.instance, one.buckets[0]!.start, one.buckets.at(-1)!.end],
  );
  const big = await accountUsage(ctxOf(app, BIG), { range: "90d", timeZone: ZONE });
  const [hours] = await owner.sql.unsafe(
    `select coalesce(sum(cost_cents), 0)::bigint::text as cents from instance_usage_hourly where account_id = $1 and hour >= $2 and hour < $3`,
    [BIG, big.buckets[0]!.start, big.buckets.at(-1)!.end],
  );
  const ranking = await owner.sql.unsafe(
    `select instance_id, sum(cost_cents)::bigint::text as cents from instance_usage_hourly where account_id = $1 and hour >= $2 and hour < $3
     group by 1 order by sum(cost_cents) desc, 1 limit 10`,
    [BIG, big.buckets[0]!.start, big.buckets.at(-1)!.end],
  );
  return {
    instanceAgainstLedger: sum(one.buckets, (b) => b.costCents) === Number(ledger!.cents) && one.buckets.length === DAYS,
    accountBarsAgainstHours: sum(big.buckets, (b) => b.costCents) === Number(hours!.cents) && big.buckets.length === DAYS,
    rankingAgainstHours:
      JSON.stringify(big.topInstances.map((t) => [t.instanceId, String(t.costCents)])) === JSON.stringify(ranking.map((r) => [r.instance_id, r.cents])),
    stacksAddUp: big.buckets.every((b) => sum(b.byInstance, (row) => row.costCents) === b.costCents),
    drift: (await findUsageDrift(owner.db, ONE.account)).length,
  };
}

/** What the two 90d answers would cost without the rollups they read. */
function baselines(app: DatabaseHandle) {
  return {
    /** The one-minute instance's 90 daily sums straight from its 129,600 ledger entries. */
    ledgerDaily: () =>
      app.db.execute(sql`
        select date_trunc('day', created_at, ${ZONE}) as day, -sum(amount_cents) as cost from ledger_entries
        where account_id = ${ONE.account} and instance_id = ${ONE.instance} and created_at >= date_trunc('day', now(), ${ZONE}) - interval '89 days'
        group by 1`),
    /** The big account's bars and ranking from its 2.16 million instance hours alone. */
    hoursOnly: async () => {
      await app.db.execute(sql`
        select date_trunc('day', hour, ${ZONE}) as day, sum(cost_cents), sum(billable_seconds) from instance_usage_hourly
        where account_id = ${BIG} and hour >= date_trunc('day', now(), ${ZONE}) - interval '89 days' group by 1`);
      await app.db.execute(sql`
        select instance_id, sum(cost_cents) as cost from instance_usage_hourly
        where account_id = ${BIG} and hour >= date_trunc('day', now(), ${ZONE}) - interval '89 days' group by 1 order by cost desc limit 10`);
    },
  };
}

/** The diagnostic: each statement of the 90d answers, captured through drizzle's logger, explained with its parameters. */
async function explain(app: DatabaseHandle) {
  const captured: { query: string; params: unknown[] }[] = [];
  const logger = { logQuery: (query: string, params: unknown[]) => void (/^\s*(select|with)/i.test(query) && captured.push({ query, params })) };
  const db = drizzle(app.sql, { schema, logger });
  const ctx = (accountId: string): AccountContext => ({ db, accountId, role: "owner", actor: { kind: "system" } });
  await instanceUsage(ctx(ONE.account), { instanceId: ONE.instance, range: "90d", timeZone: ZONE });
  await accountUsage(ctx(BIG), { range: "90d", timeZone: ZONE });
  for (const { query, params } of captured) {
    const plan = await app.sql.unsafe(`explain (analyze, buffers) ${query}`, params as never[]);
    log(`EXPLAIN ANALYZE ${query.replace(/\s+/g, " ").slice(0, 120)}…\n${plan.map((row) => row["QUERY PLAN"]).join("\n")}`);
  }
}

// ---- Report ---------------------------------------------------------------------------------
const ms = (value: number) => `${value.toFixed(1)} ms`;
const mark = (ok: boolean) => (ok ? "✅" : "❌");

interface Results {
  started: Date;
  elapsedS: number;
  load: number[][];
  seed: { minuteS: number; backfillS: number; bigS: number; rows: Record<"debits" | "minuteHours" | "bigHours" | "bigDays" | "accountHours", number> };
  floor: Timing;
  instance: Record<UsageRange, Timing>;
  account: Record<UsageRange, Timing>;
  ledgerDaily: Timing;
  hoursOnly: Timing;
  checks: Checks;
}

const exact = (c: Checks) => c.instanceAgainstLedger && c.accountBarsAgainstHours && c.rankingAgainstHours && c.stacksAddUp && c.drift === 0;

function report(r: Results): string {
  const out: string[] = [];
  out.push("# `bun run bench:usage` — latest results", "");
  out.push(runLine(r), "");
  out.push(
    `One database, migrated as \`npm start\` migrates it, queried as the app role through the domain functions (\`instanceUsage\`, \`accountUsage\`) ` +
      `with the database's clock, zone ${ZONE}. Each figure: median and p95 of ${r.instance["90d"].runs} calls after ${WARMUP} warm-up calls; ` +
      `baselines: ${BASELINE_RUNS} calls.`,
    "",
    `- **One-minute instance**: one run at ${MINUTE_RATE / 100} €/h ticked every minute for ${DAYS} days: ${r.seed.rows.debits.toLocaleString("en-US")} ledger debits, ` +
      `rolled up by the rollups migration's own backfill statement into ${r.seed.rows.minuteHours.toLocaleString("en-US")} instance hours.`,
    `- **Big account**: ${BIG_INSTANCES.toLocaleString("en-US")} instances that ran every hour of the ${DAYS} days: ` +
      `${r.seed.rows.bigHours.toLocaleString("en-US")} instance hours, ${r.seed.rows.bigDays.toLocaleString("en-US")} instance days, ` +
      `${r.seed.rows.accountHours.toLocaleString("en-US")} account hours.`,
    "",
  );
  out.push("## Goals (issue 12)", "");
  out.push("| goal | target | median | p95 | |", "| --- | --- | ---: | ---: | --- |");
  const i90 = r.instance["90d"];
  const a90 = r.account["90d"];
  out.push(`| 90d Usage tab, instance with 90 days of one-minute ticks | ≤ ${GOAL_MS} ms | ${ms(i90.median)} | ${ms(i90.p95)} | ${mark(i90.p95 <= GOAL_MS)} |`);
  out.push(
    `| 90d account page, ${BIG_INSTANCES.toLocaleString("en-US")} instances | ≤ ${GOAL_MS} ms | ${ms(a90.median)} | ${ms(a90.p95)} | ${mark(a90.p95 <= GOAL_MS)} |`,
  );
  out.push(`| every answer equals the rows it sums (the instance: its ledger, to the cent) | exact | | | ${mark(exact(r.checks))} |`);
  out.push("", "## Every range", "");
  out.push("| range | instance: median | p95 | account: median | p95 |", "| --- | ---: | ---: | ---: | ---: |");
  for (const range of usageRanges) {
    out.push(`| ${range} | ${ms(r.instance[range].median)} | ${ms(r.instance[range].p95)} | ${ms(r.account[range].median)} | ${ms(r.account[range].p95)} |`);
  }
  out.push("", "## Baselines, same run", "");
  out.push("| what | median | p95 |", "| --- | ---: | ---: |");
  out.push(`| round trip (\`select 1\`), the floor of any query now | ${ms(r.floor.median)} | ${ms(r.floor.p95)} |`);
  out.push(
    `| the instance's 90 daily sums straight from its ${r.seed.rows.debits.toLocaleString("en-US")} ledger entries | ${ms(r.ledgerDaily.median)} | ${ms(r.ledgerDaily.p95)} |`,
  );
  out.push(
    `| the account's 90 daily bars and ranking from its ${r.seed.rows.bigHours.toLocaleString("en-US")} instance hours alone | ${ms(r.hoursOnly.median)} | ${ms(r.hoursOnly.p95)} |`,
  );
  out.push(
    "",
    `Seeding: one-minute ticks ${r.seed.minuteS.toFixed(1)} s, the migration's backfill of them ${r.seed.backfillS.toFixed(1)} s, the big account ${r.seed.bigS.toFixed(1)} s.`,
  );
  out.push("", "## Checks", "");
  out.push("| check | |", "| --- | --- |");
  out.push(`| the instance's 90d buckets sum to its ledger debits in the range | ${mark(r.checks.instanceAgainstLedger)} |`);
  out.push(`| the account's 90d bars sum to its instance hours in the range | ${mark(r.checks.accountBarsAgainstHours)} |`);
  out.push(`| its top 10 (daily rollup + ragged hours) = the top 10 summed from the instance hours | ${mark(r.checks.rankingAgainstHours)} |`);
  out.push(`| every bar's stacks (top instances + other) add up to the bar | ${mark(r.checks.stacksAddUp)} |`);
  out.push(`| \`findUsageDrift\` for the one-minute account (rollups vs ledger and run) | ${r.checks.drift === 0 ? "✅ none" : `❌ ${r.checks.drift}`} |`);
  return `${out.join("\n")}\n`;
}

// ---- Main ---------------------------------------------------------------------------------------
let exitCode = 0;
try {
  const started = new Date();
  const loadBefore = loadavg();
  cluster = await startBenchCluster(dataDir, "qdz_bench_usage_template");
  const db = await cluster.fresh("qdz_bench_usage");
  const seconds = (start: number) => (performance.now() - start) / 1000;

  let start = performance.now();
  await seedMinuteTicks(db.owner);
  const minuteS = seconds(start);
  start = performance.now();
  await db.owner.sql.unsafe(usageBackfillSql());
  const backfillS = seconds(start);
  start = performance.now();
  await seedBigAccount(db.owner);
  const bigS = seconds(start);
  await db.owner.sql.unsafe("vacuum analyze");
  const count = async (query: string) => Number((await db.owner.sql.unsafe(query))[0]!.n);
  const rows = {
    debits: await count(`select count(*) as n from ledger_entries where instance_id = '${ONE.instance}'`),
    minuteHours: await count(`select count(*) as n from instance_usage_hourly where instance_id = '${ONE.instance}'`),
    bigHours: await count(`select count(*) as n from instance_usage_hourly where account_id = '${BIG}'`),
    bigDays: await count(`select count(*) as n from instance_usage_daily where account_id = '${BIG}'`),
    accountHours: await count(`select count(*) as n from account_usage_hourly where account_id = '${BIG}'`),
  };
  log(`seeded: ${JSON.stringify(rows)} (ticks ${minuteS.toFixed(1)} s, backfill ${backfillS.toFixed(1)} s, big account ${bigS.toFixed(1)} s)`);

  if (EXPLAIN) await explain(db.app);
  const checks = await check(db.app, db.owner);
  log(`checks: ${JSON.stringify(checks)}`);

  const floor = await time(RUNS, () => db.app.sql`select 1`);
  const instance = {} as Record<UsageRange, Timing>;
  const account = {} as Record<UsageRange, Timing>;
  for (const range of usageRanges) {
    instance[range] = await time(RUNS, () => instanceUsage(ctxOf(db.app, ONE.account), { instanceId: ONE.instance, range, timeZone: ZONE }));
    account[range] = await time(RUNS, () => accountUsage(ctxOf(db.app, BIG), { range, timeZone: ZONE }));
    log(
      `${range}: instance ${ms(instance[range].median)} (p95 ${ms(instance[range].p95)}), account ${ms(account[range].median)} (p95 ${ms(account[range].p95)})`,
    );
  }
  const base = baselines(db.app);
  const ledgerDaily = await time(BASELINE_RUNS, base.ledgerDaily, 1);
  const hoursOnly = await time(BASELINE_RUNS, base.hoursOnly, 1);
  log(`baselines: select 1 ${ms(floor.median)}, ledger daily ${ms(ledgerDaily.median)}, hours only ${ms(hoursOnly.median)}`);
  await db.drop();

  const markdown = report({
    started,
    elapsedS: (Date.now() - started.getTime()) / 1000,
    load: [loadBefore, loadavg()],
    seed: { minuteS, backfillS, bigS, rows },
    floor,
    instance,
    account,
    ledgerDaily,
    hoursOnly,
    checks,
  });
  console.log(markdown);
  if (NARROWED) log("narrowed run (BENCH_RUNS): results file not written");
  else {
    writeFileSync(resultsPath, markdown);
    log(`written to ${resultsPath}`);
  }
  if (!exact(checks)) {
    log("a check failed: some answer differs from the rows it sums");
    exitCode = 1;
  }
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
} finally {
  await cluster?.stop().catch((error) => log(`stopping PostgreSQL: ${error}`));
}
process.exit(exitCode);

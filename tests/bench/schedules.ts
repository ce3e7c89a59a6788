/**
 * `bun run bench:schedules`: the scheduler (src/schedules/fire.ts) timed over 100,000 rules on 100,000
 * instances across 20,000 accounts, 2,000 of them due in the same minute: one `fireDueRules` with a stub
 * action, and two workers (two processes, two pools) at once over the same rules; every figure beside a
 * floor measured in the same run on the same rows: one statement that advances the 2,000 due rules by a
 * day, touches their instances as the stub does and inserts their 2,000 executions (rolled back), and
 * croner alone computing the 2,000 next runs in this process.
 *
 * Each case gets a fresh database copied from one migrated template, seeded set-based as the app role,
 * vacuumed and analysed by the owner as autovacuum would have by then. The due rules' crons are realistic
 * ones that match the current minute in their own zone (daily, weekly, monthly at this local time; hourly
 * at this minute; every 15 minutes through it), so their due time is a real run of their cron; the other
 * 98,000 carry a mix of common crons and zones with `next_run_at` spread over the coming week (not computed
 * from their cron: the fire reaches them only through the due index, which is what their number tests).
 * After every fire the result is checked against a copy of the seeded rules: each due rule fired once, for
 * its due time, its next run = croner's next run after now, the other rules and their executions untouched.
 *
 * The timed fire runs warm: the same fire has run once before it in one transaction, rolled back (its time is
 * reported as the first fire of a fresh process), as in a worker that has been up a while.
 *
 * The stub action counts its calls (a rule performed twice would hide behind the executions' unique key)
 * and makes one indexed single-row write, `UPDATE instances SET updated_at = now()` on the rule's instance:
 * it locks and writes the instance row as the real start or stop does first, so the savepoint is not free.
 *
 * BENCH_BATCHES=500 narrows the batch sizes tried after the timed fire (the rules reset between them);
 * BENCH_CONCURRENT=0 skips the two-worker case. A narrowed run prints its table but does not write
 * tests/bench/schedules-results.md. BENCH_EXPLAIN=1 (a diagnostic) prints EXPLAIN ANALYZE of the claim
 * query, rolled back, before the timed fire.
 *
 * Worker mode (`schedules.ts --worker <url>`): connects, says "ready", fires once when it reads "go" on
 * stdin, prints its FireReport, its action calls and its times.
 */
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { TransactionRollbackError } from "drizzle-orm/errors";
import { drizzle } from "drizzle-orm/postgres-js";
import { connect, type Database, type DatabaseHandle, schema } from "../../db/client";
import { projectRoot } from "../../src/config";
import { nextRun } from "../../src/schedules/cron";
import { type FireReport, fireDueRules, type PerformAction } from "../../src/schedules/fire";
import { type BenchCluster, startBenchCluster } from "./databases";
import { benchPricing, benchRuntime, runLine } from "./fixtures";
import { lines } from "./processes";

/** The config's default SCHEDULE_CATCH_UP_SECONDS: the due rules are seconds late, well inside it. */
const CATCH_UP_SECONDS = 600;

interface WorkerOutput {
  report: FireReport;
  performed: number;
  startedAt: number;
  endedAt: number;
}

/** The stub action: counts its calls and touches the rule's instance row (one indexed single-row UPDATE). */
function stubAction(): { perform: PerformAction; calls: () => number } {
  let calls = 0;
  return {
    perform: async (tx, rule) => {
      calls += 1;
      await tx.execute(sql`update instances set updated_at = now() where id = ${rule.instanceId}`);
      return { outcome: "succeeded", detail: null };
    },
    calls: () => calls,
  };
}

/**
 * A whole fire inside one transaction, rolled back: what a worker that has been running has already done (the
 * code compiled hot, croner and drizzle warm, the pages read), so the timed fire after it is a warm one. Its
 * own time is the first fire of a fresh process.
 */
async function rolledBackFire(db: Database): Promise<number> {
  const start = performance.now();
  await db
    .transaction(async (tx) => {
      await fireDueRules(tx, stubAction().perform, { catchUpSeconds: CATCH_UP_SECONDS });
      tx.rollback();
    })
    .catch((error) => {
      if (!(error instanceof TransactionRollbackError)) throw error;
    });
  return (performance.now() - start) / 1000;
}

if (process.argv[2] === "--worker") {
  await runWorker(process.argv[3]!);
  process.exit(0);
}

/** A second process's fire: connected and warm (a whole fire rolled back) before "go", so both start together. */
async function runWorker(url: string) {
  const handle = connect(url, { max: 2 });
  await handle.sql`select count(*) from schedule_rules join instances on instances.id = schedule_rules.instance_id`;
  await rolledBackFire(handle.db);
  console.log("ready");
  for await (const line of console) {
    if (line.trim() === "go") break;
  }
  const stub = stubAction();
  const startedAt = performance.timeOrigin + performance.now();
  const report = await fireDueRules(handle.db, stub.perform, { catchUpSeconds: CATCH_UP_SECONDS });
  const endedAt = performance.timeOrigin + performance.now();
  console.log(JSON.stringify({ report, performed: stub.calls(), startedAt, endedAt } satisfies WorkerOutput));
  await handle.close();
}

// ---- Plan ---------------------------------------------------------------------
const RULES = 100_000;
const DUE_EVERY = 50; // every 50th rule is due: 2,000, spread over the id space
const DUE = RULES / DUE_EVERY;
const INSTANCES_PER_ACCOUNT = 5;
/** Batch sizes tried after the timed fire (which uses fire.ts's default, 500). */
const BATCHES = (process.env.BENCH_BATCHES ?? "100,2000").split(",").filter(Boolean).map(Number);
const CONCURRENT = process.env.BENCH_CONCURRENT !== "0";
const EXPLAIN = process.env.BENCH_EXPLAIN === "1";
const NARROWED = EXPLAIN || process.env.BENCH_BATCHES !== undefined || process.env.BENCH_CONCURRENT !== undefined;
const GOAL_S = 2;

/** The not-due rules' crons and every rule's zone: what people write for start/stop schedules. */
const CRONS = [
  "0 8 * * 1-5",
  "0 19 * * 1-5",
  "30 7 * * *",
  "0 22 * * *",
  "*/15 * * * *",
  "0 */2 * * *",
  "@daily",
  "@hourly",
  "0 9 * * 1",
  "45 17 * * 5",
  "0 0 1 * *",
];
const ZONES = [
  "UTC",
  "Europe/Berlin",
  "Europe/London",
  "America/New_York",
  "America/Los_Angeles",
  "America/Sao_Paulo",
  "Asia/Tokyo",
  "Asia/Kolkata",
  "Asia/Singapore",
  "Australia/Sydney",
];

const resultsPath = join(projectRoot, "tests/bench/schedules-results.md");
const dataDir = join(projectRoot, `.data/bench-schedules-${process.pid}`);
const TEMPLATE = "qdz_bench_schedules_template";
const log = (line: string) => console.error(`[bench:schedules] ${line}`);

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

// ---- Databases ------------------------------------------------------------------
/**
 * 20,000 accounts, 100,000 stopped instances, one rule each. Rule g is due when g is a multiple of 50: its
 * cron is made to match the current minute (t) in its zone, and its `next_run_at` is t, within the last
 * minute. The rest are due 10 minutes to a week from now, on whole minutes as real next runs are. Ids are
 * md5-derived, so id order is unrelated to account order or due time. Then the owner keeps a copy of every
 * rule as seeded (`bench_seeded_rules`) for the checks.
 */
async function seed(db: { app: DatabaseHandle; owner: DatabaseHandle }) {
  const accounts = RULES / INSTANCES_PER_ACCOUNT;
  const acct = (g: string) => `'acct_' || left(md5('acct' || ${g}), 20)`;
  const inst = (g: string) => `'inst_' || left(md5('inst' || ${g}), 20)`;
  await db.app.sql.begin(async (tx) => {
    await tx.unsafe(`insert into accounts (id, name) select ${acct("g")}, 'bench ' || g from generate_series(1, ${accounts}) g`);
    await tx.unsafe(
      `insert into instances (id, account_id, name, state, model_class, gpu_preferences, gpu_count, tier, pricing_snapshot, runtime_config)
      select ${inst("g")}, ${acct(`((g - 1) / ${INSTANCES_PER_ACCOUNT} + 1)`)}, 'bench ' || g, 'stopped', 'llm', '{L4}', 1, 'secure', $1::jsonb, $2::jsonb
      from generate_series(1, ${RULES}) g`,
      [JSON.stringify(benchPricing()), JSON.stringify(benchRuntime)],
    );
    // Due rules' crons, from the local minute (m), hour (h), day of month and weekday of t in their zone.
    await tx.unsafe(
      `insert into schedule_rules (id, account_id, instance_id, action, cron, time_zone, next_run_at)
      select 'sch_' || left(md5('sch' || g), 20), ${acct(`((g - 1) / ${INSTANCES_PER_ACCOUNT} + 1)`)}, ${inst("g")},
             (array['start', 'stop'])[1 + (g + g / ${DUE_EVERY}) % 2]::schedule_action,
             case when not due then ($1::text[])[1 + g % cardinality($1::text[])]
                  else case (g / ${DUE_EVERY}) % 5
                    when 0 then m || ' ' || h || ' * * *'
                    when 1 then m || ' ' || h || ' * * ' || extract(dow from local)::int
                    when 2 then m || ' * * * *'
                    when 3 then m % 15 || '-59/15 * * * *'
                    else m || ' ' || h || ' ' || extract(day from local)::int || ' * *' end end,
             zone,
             case when due then t else t + make_interval(mins => 10 + (g * 7919) % 10080) end
      from (select g, g % ${DUE_EVERY} = 0 as due, zone, t, t at time zone zone as local,
                   extract(minute from t at time zone zone)::int as m, extract(hour from t at time zone zone)::int as h
            from generate_series(1, ${RULES}) g,
                 lateral (select ($2::text[])[1 + (g * 7 + g / ${DUE_EVERY}) % cardinality($2::text[])] as zone, date_trunc('minute', now()) as t) z) r`,
      [CRONS, ZONES],
    );
  });
  await db.owner.sql.unsafe(
    "create table bench_seeded_rules as select id, cron, time_zone, next_run_at as due_at, next_run_at <= now() as due from schedule_rules",
  );
  await db.owner.sql.unsafe("vacuum analyze");
}

/** Puts the due rules back as seeded and forgets their executions, for the next batch size on the same rows. */
async function reset(owner: DatabaseHandle) {
  await owner.sql.unsafe("update schedule_rules r set next_run_at = s.due_at from bench_seeded_rules s where s.id = r.id and s.due");
  await owner.sql.unsafe("delete from schedule_executions");
  await owner.sql.unsafe("vacuum analyze schedule_rules, schedule_executions, instances");
}

/** Warms the connection's catalog and the tables' pages, for the floor and the fire alike. */
async function warm(app: DatabaseHandle) {
  await app.sql`select count(*) from schedule_rules join instances on instances.id = schedule_rules.instance_id`;
  await app.sql`select count(*) from schedule_executions`;
}

/**
 * The floor: the same rows written by one statement, then rolled back: the due rules advanced a day (plain
 * arithmetic, no croner), their instances touched as the stub does, their 2,000 executions inserted.
 */
async function floorStatement(app: DatabaseHandle): Promise<number> {
  const start = performance.now();
  await app.sql
    .begin(async (tx) => {
      await tx.unsafe(`
        with due as (
          update schedule_rules r set next_run_at = d.next_run_at + interval '1 day'
          from schedule_rules d where d.id = r.id and d.next_run_at <= now()
          returning r.id, r.account_id, r.instance_id, r.action, r.cron, r.time_zone, d.next_run_at as due_at
        ), touched as (
          update instances i set updated_at = now() from due where i.id = due.instance_id
        )
        insert into schedule_executions (rule_id, account_id, instance_id, action, cron, time_zone, due_at, outcome)
        select id, account_id, instance_id, action, cron, time_zone, due_at, 'succeeded' from due`);
      throw new Rollback();
    })
    .catch((error) => {
      if (!(error instanceof Rollback)) throw error;
    });
  return seconds(start);
}
class Rollback extends Error {}

/** Croner alone: the due rules' next runs computed in this process, as fireOne computes them (warmed once first). */
async function cronerAlone(owner: DatabaseHandle): Promise<number> {
  const due = await owner.sql<{ cron: string; time_zone: string }[]>`select cron, time_zone from bench_seeded_rules where due`;
  const now = new Date();
  for (const rule of due) nextRun(rule.cron, rule.time_zone, now);
  const start = performance.now();
  for (const rule of due) nextRun(rule.cron, rule.time_zone, now);
  return seconds(start);
}

/** The database clock, as the fire reads it (the driver gives timestamps back as text here). */
const databaseNow = async (handle: DatabaseHandle) => new Date((await handle.sql<{ now: string }[]>`select now()::text as now`)[0]!.now);

interface Check {
  due: number;
  /** The stub's calls: a rule performed twice would hide behind the executions' unique key. */
  actions: number;
  firedOnce: number;
  missing: number;
  twice: number;
  /** An execution whose due time, outcome, cron, zone or instance is not the seeded rule's. */
  wrongRecord: number;
  /** Executions of rules that were not due, or of no rule at all. */
  stray: number;
  notAdvanced: number;
  /** A due rule whose next_run_at is not croner's next run after the fire's start. */
  wrongNextRun: number;
  /** A rule that was not due whose next_run_at moved. */
  otherMoved: number;
}

/**
 * Every rule against its seeded copy, computed here rather than through the fire's SQL: one execution per
 * due rule, for its seeded due time, `succeeded`; none for any other rule; each due rule's next run after
 * `before` (the database's clock just before the fire) and equal to croner's, every other rule unmoved.
 */
async function verify(owner: DatabaseHandle, before: Date, actions: number): Promise<Check> {
  const [counts] = await owner.sql.unsafe(`
    with e as (
      select e.rule_id, count(*)::int as n,
             bool_and(e.due_at = s.due_at and e.outcome = 'succeeded' and e.cron = s.cron and e.time_zone = s.time_zone
                      and e.instance_id = r.instance_id) as ok
      from schedule_executions e left join bench_seeded_rules s on s.id = e.rule_id left join schedule_rules r on r.id = e.rule_id
      group by 1
    )
    select count(*) filter (where s.due)::int as due,
           count(*) filter (where s.due and e.n = 1)::int as "firedOnce",
           count(*) filter (where s.due and e.n is null)::int as missing,
           count(*) filter (where s.due and e.n > 1)::int as twice,
           count(*) filter (where s.due and not e.ok)::int as "wrongRecord",
           (select count(*) from e left join bench_seeded_rules s on s.id = e.rule_id where s.due is not true)::int as stray,
           count(*) filter (where not s.due and r.next_run_at is distinct from s.due_at)::int as "otherMoved"
    from bench_seeded_rules s join schedule_rules r using (id) left join e on e.rule_id = s.id`);
  const advanced = await owner.sql<{ cron: string; time_zone: string; next_run_at: string | null }[]>`
    select r.cron, r.time_zone, r.next_run_at::text from schedule_rules r join bench_seeded_rules s using (id) where s.due`;
  let notAdvanced = 0;
  let wrongNextRun = 0;
  for (const rule of advanced) {
    const next = rule.next_run_at ? new Date(rule.next_run_at).getTime() : null;
    if (next === null || next <= before.getTime()) notAdvanced += 1;
    if (next !== (nextRun(rule.cron, rule.time_zone, before)?.getTime() ?? null)) wrongNextRun += 1;
  }
  return { ...(counts as unknown as Omit<Check, "actions" | "notAdvanced" | "wrongNextRun">), actions, notAdvanced, wrongNextRun };
}

const exact = (check: Check) =>
  check.due === DUE &&
  check.firedOnce === check.due &&
  check.actions === check.due &&
  check.missing + check.twice + check.wrongRecord + check.stray + check.notAdvanced + check.wrongNextRun + check.otherMoved === 0;

/** The claim statement fireDueRules sends, captured through drizzle's logger and stopped there (nothing runs). */
async function claimStatement(app: DatabaseHandle): Promise<{ query: string; params: unknown[] }> {
  let captured: { query: string; params: unknown[] } | undefined;
  const logger = {
    logQuery(query: string, params: unknown[]) {
      if (!query.includes("skip locked")) return;
      captured = { query, params };
      throw new Rollback();
    },
  };
  await fireDueRules(drizzle(app.sql, { schema, logger }), stubAction().perform, { catchUpSeconds: CATCH_UP_SECONDS }).catch((error) => {
    if (!(error instanceof Rollback)) throw error;
  });
  if (!captured) throw new Error("fireDueRules sent no claim statement");
  return captured;
}

/** The claim's plan: plain EXPLAIN (estimates, runs nothing) for the results, EXPLAIN ANALYZE rolled back as the diagnostic. */
async function explainClaim(app: DatabaseHandle, analyze: boolean): Promise<string> {
  const { query, params } = await claimStatement(app);
  return app.sql
    .begin(async (tx) => {
      const rows = await tx.unsafe(`explain ${analyze ? "(analyze, buffers) " : ""}${query}`, params as never[]);
      throw new Rollback(rows.map((row) => row["QUERY PLAN"]).join("\n"));
    })
    .catch((error) => (error instanceof Rollback ? error.message : Promise.reject(error)));
}

// ---- Measurements -------------------------------------------------------------------
interface Fire {
  batchSize: number | undefined;
  s: number;
  report: FireReport;
  performed: number;
  executions: number;
  check: Check;
}

interface SingleResult {
  seedS: number;
  floorS: number;
  cronerS: number;
  /** The first fire of this process (rolled back): cold code, as a worker's first poll after it starts. */
  coldS: number;
  plan: string;
  fire: Fire;
  refireS: number;
  batches: Fire[];
}

async function timedFire(db: { app: DatabaseHandle; owner: DatabaseHandle }, batchSize: number | undefined): Promise<Fire> {
  const stub = stubAction();
  const before = await databaseNow(db.app);
  const start = performance.now();
  const report = await fireDueRules(db.app.db, stub.perform, { catchUpSeconds: CATCH_UP_SECONDS, batchSize });
  const s = seconds(start);
  const check = await verify(db.owner, before, stub.calls());
  const [{ executions }] = (await db.owner.sql`select count(*)::int as executions from schedule_executions`) as unknown as [{ executions: number }];
  log(`fire (batch ${batchSize ?? "default"}): ${s.toFixed(3)} s, fired ${report.fired}, performed ${stub.calls()}, exact ${exact(check)}`);
  return { batchSize, s, report, performed: stub.calls(), executions, check };
}

async function single(): Promise<SingleResult> {
  const db = await cluster!.fresh("qdz_bench_schedules_one");
  try {
    let start = performance.now();
    await seed(db);
    const seedS = seconds(start);
    await warm(db.app);
    const floorS = await floorStatement(db.app);
    await db.owner.sql.unsafe("vacuum analyze schedule_rules, schedule_executions, instances"); // the floor's dead row versions gone before the fire
    const cronerS = await cronerAlone(db.owner);
    const plan = await explainClaim(db.app, false);
    if (EXPLAIN) log(`EXPLAIN ANALYZE of the claim, ${DUE} due of ${RULES} rules (rolled back):\n${await explainClaim(db.app, true)}`);
    const coldS = await rolledBackFire(db.app.db);
    await db.owner.sql.unsafe("vacuum analyze schedule_rules, schedule_executions, instances");
    const fire = await timedFire(db, undefined);
    // Nothing due any more: what each worker's poll (every SCHEDULE_POLL_SECONDS) costs over the same rules.
    start = performance.now();
    const again = await fireDueRules(db.app.db, stubAction().perform, { catchUpSeconds: CATCH_UP_SECONDS });
    const refireS = seconds(start);
    if (again.fired !== 0) throw new Error(`a repeated fire fired ${again.fired} rules`);
    log(
      `seed ${seedS.toFixed(1)} s, floor ${floorS.toFixed(3)} s, croner ${cronerS.toFixed(3)} s, cold ${coldS.toFixed(3)} s, fire ${fire.s.toFixed(3)} s, re-fire ${refireS.toFixed(3)} s`,
    );
    const batches: Fire[] = [];
    for (const batchSize of BATCHES) {
      await reset(db.owner);
      batches.push(await timedFire(db, batchSize));
    }
    return { seedS, floorS, cronerS, coldS, plan, fire, refireS, batches };
  } finally {
    await db.drop();
  }
}

interface ConcurrentResult {
  floorS: number;
  wallS: number;
  workers: { report: FireReport; performed: number; s: number }[];
  executions: number;
  check: Check;
}

async function concurrent(): Promise<ConcurrentResult> {
  const db = await cluster!.fresh("qdz_bench_schedules_two");
  try {
    await seed(db);
    await warm(db.app);
    const floorS = await floorStatement(db.app);
    await db.owner.sql.unsafe("vacuum analyze schedule_rules, schedule_executions, instances");
    const procs = [0, 1].map(() => {
      const proc = Bun.spawn([process.execPath, import.meta.path, "--worker", db.appUrl], { cwd: projectRoot, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
      children.push(proc);
      return { proc, lines: lines(proc.stdout) };
    });
    for (const { lines } of procs) if ((await lines.next()).value !== "ready") throw new Error("a worker did not start");
    await db.owner.sql.unsafe("vacuum analyze schedule_rules, schedule_executions, instances"); // the warm-up fires' dead row versions
    const before = await databaseNow(db.app);
    for (const { proc } of procs) {
      proc.stdin.write("go\n");
      proc.stdin.flush();
    }
    const outputs: WorkerOutput[] = [];
    for (const { proc, lines } of procs) {
      const line = (await lines.next()).value;
      if ((await proc.exited) !== 0 || !line) throw new Error(`a worker failed: ${await new Response(proc.stderr).text()}`);
      outputs.push(JSON.parse(line));
    }
    const wallS = (Math.max(...outputs.map((o) => o.endedAt)) - Math.min(...outputs.map((o) => o.startedAt))) / 1000;
    const check = await verify(
      db.owner,
      before,
      outputs.reduce((sum, o) => sum + o.performed, 0),
    );
    const [{ executions }] = (await db.owner.sql`select count(*)::int as executions from schedule_executions`) as unknown as [{ executions: number }];
    const workers = outputs.map((o) => ({ report: o.report, performed: o.performed, s: (o.endedAt - o.startedAt) / 1000 }));
    log(`two workers: wall ${wallS.toFixed(3)} s, split ${workers.map((w) => w.report.fired).join(" / ")}, exact ${exact(check)}`);
    return { floorS, wallS, workers, executions, check };
  } finally {
    await db.drop();
  }
}

// ---- Report -----------------------------------------------------------------------------
const n = (value: number) => value.toLocaleString("en-US");
const s = (value: number) => `${value.toFixed(3)} s`;
const perRule = (value: number) => `${((value * 1e6) / DUE).toFixed(0)} µs`;
const mark = (ok: boolean) => (ok ? "✅" : "❌");

function report(one: SingleResult, pair: ConcurrentResult | undefined, meta: { started: Date; elapsedS: number; load: number[][] }): string {
  const out: string[] = [];
  const fire = one.fire;
  out.push("# `bun run bench:schedules` — latest results", "");
  out.push(runLine(meta), "");
  out.push(
    `Each case: a fresh database, ${n(RULES)} rules on ${n(RULES)} stopped instances across ${n(RULES / INSTANCES_PER_ACCOUNT)} accounts, seeded set-based, ` +
      `vacuumed and analysed; ${n(DUE)} rules (every ${DUE_EVERY}th) due at the start of the current minute with crons that match it in their own zone ` +
      "(daily, weekly, monthly at that local time, hourly at that minute, every 15 minutes through it), the others due 10 minutes to a week ahead. " +
      `Timed as the app role: **fire** = \`fireDueRules(db, stub, { catchUpSeconds: ${CATCH_UP_SECONDS} })\` with its default batch of 500 (one transaction ` +
      "per batch: claim `FOR UPDATE SKIP LOCKED` in due order, then per rule a savepoint around the action and its next run from croner, then the batch's executions in one insert and its next runs in one update); " +
      "the **stub** action counts its calls and runs `UPDATE instances SET updated_at = now()` on the rule's instance (the row a real start or stop locks and writes first). " +
      "Before it, the same fire once in one transaction, rolled back, so the timed one runs warm as in a worker that has been up a while " +
      "(**first fire** = that one's time: a fresh process, cold code). **Floor** = one statement on one connection that advances the due rules a day by arithmetic, touches their instances and inserts their executions " +
      "(rolled back, then vacuumed); **croner alone** = the due rules' next runs computed in process. **Re-fire** = an immediate second fire that finds nothing due: " +
      "what every worker's poll costs. One measurement per case, so read the ratios, not the third decimal.",
    "",
  );
  out.push("## Goals", "");
  out.push("| goal | target | measured | |", "| --- | --- | ---: | --- |");
  out.push(
    `| ${n(DUE)} due of ${n(RULES)} rules found, fired and advanced, one worker | ≤ ${GOAL_S} s | ${s(fire.s)} (floor ${s(one.floorS)}; first fire of a fresh process ${s(one.coldS)}) | ${mark(fire.s <= GOAL_S && exact(fire.check))} |`,
  );
  if (pair) {
    const ok = exact(pair.check);
    const split = pair.workers.map((w) => n(w.report.fired)).join(" / ");
    out.push(`| two workers at once | each due rule fired exactly once | ${split}, ${ok ? "each rule once, none missing" : "NOT exact"} | ${mark(ok)} |`);
  }
  out.push("", "## One worker", "");
  out.push(
    "| rules | due | floor | croner alone | first fire | fire | fire / floor | per due rule | re-fire | fired | actions | executions | advanced | exact |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  );
  out.push(
    `| ${n(RULES)} | ${n(DUE)} | ${s(one.floorS)} | ${s(one.cronerS)} | ${s(one.coldS)} | ${s(fire.s)} | ${(fire.s / one.floorS).toFixed(1)}× | ${perRule(fire.s)} | ${s(one.refireS)} | ` +
      `${n(fire.report.fired)} | ${n(fire.performed)} | ${n(fire.executions)} | ${n(fire.check.due - fire.check.notAdvanced)} | ${mark(exact(fire.check))} |`,
  );
  out.push("", `Croner: ${perRule(one.cronerS)} per rule, ${((one.cronerS / fire.s) * 100).toFixed(0)} % of the fire.`);
  if (one.batches.length > 0) {
    out.push("", "### Batch size", "");
    out.push(
      "The due rules put back as seeded (executions deleted, vacuumed) and fired again with another `batchSize`; the default's row is the timed fire above.",
      "",
    );
    out.push("| batch | transactions | fire | per due rule | fired | exact |", "| ---: | ---: | ---: | ---: | ---: | --- |");
    const rows = [fire, ...one.batches].sort((a, b) => (a.batchSize ?? 500) - (b.batchSize ?? 500));
    for (const f of rows) {
      const size = f.batchSize ?? 500;
      // The loop stops at the first batch that claims fewer than a full one: an exact multiple ends with an empty claim.
      const transactions = Math.floor(DUE / size) + 1;
      out.push(
        `| ${n(size)}${f.batchSize === undefined ? " (default)" : ""} | ${transactions} | ${s(f.s)} | ${perRule(f.s)} | ${n(f.report.fired)} | ${mark(exact(f.check))} |`,
      );
    }
  }
  if (pair) {
    out.push("", "## Two workers at once", "");
    out.push(
      "Two processes (`schedules.ts --worker`), each with its own pool of two, connected and warm (each has fired once, rolled back) before both are told to start. " +
        "Wall = first start to last finish. Actions = the stub's calls, counted in each process: a rule claimed twice would show here even though the " +
        "executions' unique key would keep its second record out.",
      "",
    );
    out.push("| worker | fired | actions | time |", "| --- | ---: | ---: | ---: |");
    for (const [i, w] of pair.workers.entries()) out.push(`| ${i + 1} | ${n(w.report.fired)} | ${n(w.performed)} | ${s(w.s)} |`);
    out.push(
      "",
      `Wall ${s(pair.wallS)}; ${n(pair.executions)} executions written; floor on the same rows ${s(pair.floorS)} (wall / floor ${(pair.wallS / pair.floorS).toFixed(1)}×).`,
    );
  }
  out.push("", "## The claim's plan", "");
  out.push(
    `Plain \`EXPLAIN\` of the claim statement \`fireDueRules\` sends (captured through drizzle's logger), on the seeded ${n(RULES)} rules before the timed fire: ` +
      "a range read of `schedule_rules_due_idx` up to now, not a scan of every rule. `BENCH_EXPLAIN=1` prints EXPLAIN ANALYZE of it.",
    "",
  );
  out.push("```", one.plan, "```");
  out.push("", "## Checks after each fire", "");
  out.push(
    "Against a copy of the rules as seeded, not through the fire's SQL: one execution per due rule, for its seeded due time, `succeeded`, with its cron, zone " +
      "and instance; none for any other rule; each due rule's `next_run_at` after the database's clock just before the fire and equal to croner's next run " +
      "from it (computed here); every other rule's `next_run_at` unmoved.",
    "",
  );
  out.push(
    "| case | due | actions | fired once | missing | twice | wrong record | stray | not advanced | wrong next run | others moved |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  const row = (label: string, c: Check) =>
    `| ${label} | ${n(c.due)} | ${n(c.actions)} | ${n(c.firedOnce)} | ${c.missing} | ${c.twice} | ${c.wrongRecord} | ${c.stray} | ${c.notAdvanced} | ${c.wrongNextRun} | ${c.otherMoved} |`;
  out.push(row("one worker", fire.check));
  for (const f of one.batches) out.push(row(`one worker, batch ${n(f.batchSize!)}`, f.check));
  if (pair) out.push(row("two workers", pair.check));
  return `${out.join("\n")}\n`;
}

// ---- Main -----------------------------------------------------------------------------------
let exitCode = 0;
try {
  const started = new Date();
  const loadBefore = loadavg();
  // As `npm start` does: migrated by the owner, used as the app role; every case copies this database.
  cluster = await startBenchCluster(dataDir, TEMPLATE);

  const one = await single();
  const pair = CONCURRENT ? await concurrent() : undefined;

  const markdown = report(one, pair, { started, elapsedS: (Date.now() - started.getTime()) / 1000, load: [loadBefore, loadavg()] });
  console.log(markdown);
  if (NARROWED) log("narrowed run (BENCH_BATCHES/BENCH_CONCURRENT/BENCH_EXPLAIN): results file not written");
  else {
    writeFileSync(resultsPath, markdown);
    log(`written to ${resultsPath}`);
  }
  const failed = [one.fire.check, ...one.batches.map((f) => f.check), ...(pair ? [pair.check] : [])].some((c) => !exact(c));
  if (failed) {
    log("a check failed: some due rule was not fired exactly once, or a rule's next run is wrong");
    exitCode = 1;
  }
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);

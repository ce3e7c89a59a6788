/**
 * The ledger `bench:ledger` reads: what a 60 s billing tick writes over ~17 hours for 10,000 instances
 * across 2,000 accounts, seeded set-based as the app role, in the order the ticks would have written it.
 *
 * - Account 1 is the heavy one: instances 1–500. The other 9,500 instances are spread over accounts
 *   2–2,000 (about five each); account 2 is the typical one.
 * - Instance 1 (the heavy account's) has a month of history: 30 runs of one day each (1,440 debits a
 *   run, 43,200 in all), the last one live. Every other instance has one live run with `ticks` debits.
 * - Every 100th instance also had a run that failed 45 s after running: one debit and its refund.
 * - Top-ups: three per account over the period, thirty (one a day) for the heavy account.
 *
 * Every debit is what `billRuns` would have posted: reference `debit:<run>:<seconds>`, the cumulative
 * rule's difference in cents, the tick's description, one `created_at` per batch of 1,000 runs in run
 * id order, appended tick by tick; the heavy instance's month is spread among those ticks' rows, so its
 * entries lie one or a few to a page, as a month of ticks among 10,000 instances would leave them. Runs' billed seconds and cents equal their debits and balances equal Σ entries, so the
 * metering invariants hold before the bench ticks on top.
 */
import type { DatabaseHandle } from "../../db/client";
import { benchPricing, benchRuntime } from "./fixtures";

export const INSTANCES = 10_000;
export const ACCOUNTS = 2_000;
export const HEAVY_INSTANCES = 500;
export const HEAVY_RUNS = 30;
export const HEAVY_TICKS_PER_RUN = 1_440;
/** Instances whose ordinal is a multiple of this had an early failure, refunded. */
const EARLY_FAILURE_EVERY = 100;

export const accountId = (a: number) => `acct_${md5Hex(`acct${a}`).slice(0, 20)}`;
export const instanceId = (g: number) => `inst_${md5Hex(`inst${g}`).slice(0, 20)}`;
export const HEAVY_ACCOUNT = accountId(1);
export const TYPICAL_ACCOUNT = accountId(2);
export const HEAVY_INSTANCE = instanceId(1);
/** The typical account's first instance (instances 501, 2,500, … belong to account 2). */
export const TYPICAL_INSTANCE = instanceId(HEAVY_INSTANCES + 1);

function md5Hex(text: string): string {
  return new Bun.CryptoHasher("md5").update(text).digest("hex");
}

// The same ids in SQL, over an integer expression.
const acct = (a: string) => `'acct_' || left(md5('acct' || (${a})), 20)`;
const inst = (g: string) => `'inst_' || left(md5('inst' || (${g})), 20)`;
const run = (g: string, n: string) => `'run_' || left(md5('run' || (${g}) || ':' || (${n})), 20)`;
const accountOf = (g: string) => `(case when ${g} <= ${HEAVY_INSTANCES} then 1 else 2 + ((${g}) - ${HEAVY_INSTANCES + 1}) % ${ACCOUNTS - 1} end)`;
/** 0.80 to 5.00 €/h: at 80 c/h and up every 60 s tick and every 45 s failure moves at least one cent. */
const rate = (g: string) => `(80 + ((${g}) * 37) % 421)`;
/** The live run's number: 2 where run 1 failed early, 30 for the heavy instance. */
const liveNumber = (g: string) => `(case when ${g} = 1 then ${HEAVY_RUNS} when (${g}) % ${EARLY_FAILURE_EVERY} = 0 then 2 else 1 end)`;
/** The debit `billRuns` writes going from `from` to `to` billed seconds at rate `r` (negative cents). */
const debitCents = (to: string, from: string, r: string) => `-((${to})::bigint * ${r} / 3600 - (${from})::bigint * ${r} / 3600)`;
const description = (seconds: string, r: string, runId: string) =>
  `format('%s s at %s.%s €/h (run %s)', ${seconds}, ${r} / 100, lpad((${r} % 100)::text, 2, '0'), ${runId})`;

export interface SeedPlan {
  /** Debits per regular instance: one per 60 s tick. 0 seeds no history (the empty ledger: top-ups only). */
  ticks: number;
  log?: (line: string) => void;
}

export interface Seeded {
  /** When the seeded history ends: the last tick's time. */
  base: string;
  rows: number;
}

/** Ticks per regular instance for about `rows` ledger rows in all. */
export function ticksFor(rows: number): number {
  const heavy = HEAVY_RUNS * HEAVY_TICKS_PER_RUN;
  const fixed = heavy + (INSTANCES / EARLY_FAILURE_EVERY) * 2 + (ACCOUNTS - 1) * 3 + HEAVY_RUNS;
  return Math.max(1, Math.round((rows - fixed) / (INSTANCES - 1)));
}

export async function seedLedger(app: DatabaseHandle, plan: SeedPlan): Promise<Seeded> {
  const log = plan.log ?? (() => {});
  const history = plan.ticks > 0;
  // The regular runs' span: their billed history, or an hour not yet billed (the empty ledger's first tick bills it).
  const span = history ? plan.ticks * 60 : 3600;
  const snapshot = JSON.stringify(benchPricing());
  const runtime = JSON.stringify(benchRuntime);

  return app.sql.begin(async (tx) => {
    const [{ base }] = (await tx.unsafe("select now()::text as base")) as unknown as [{ base: string }];
    const at = (offsetSeconds: string) => `'${base}'::timestamptz + make_interval(secs => ${offsetSeconds})`;

    await tx.unsafe(`insert into accounts (id, name) select ${acct("a")}, 'bench ' || a from generate_series(1, ${ACCOUNTS}) a`);
    await tx.unsafe(
      `insert into instances (id, account_id, name, state, model_class, gpu_preferences, gpu_count, tier, pricing_snapshot, runtime_config,
                              provider_id, region, gpu_type, rate_cents_per_hour, current_run_id)
      select ${inst("g")}, ${acct(accountOf("g"))}, 'bench ' || g, 'running', 'llm', '{L4}', 1, 'secure', $1::jsonb, $2::jsonb,
             'local', 'local', 'L4', ${rate("g")}, ${history ? run("g", liveNumber("g")) : run("g", "1")}
      from generate_series(1, ${INSTANCES}) g`,
      [snapshot, runtime],
    );
    const runColumns = `id, instance_id, number, provider_id, region, gpu_type, rate_cents_per_hour, running_at, last_heartbeat_at,
                        ended_at, ended_because, settled_at, billed_seconds, billed_cents`;
    // Live runs: billed up to their last heartbeat (the end of the history), or not billed yet.
    await tx.unsafe(`insert into instance_runs (${runColumns})
      select ${run("g", history ? liveNumber("g") : "1")}, ${inst("g")}, ${history ? liveNumber("g") : "1"}, 'local', 'local', 'L4', ${rate("g")},
             ${at(`-s`)}, ${at("0")}, null, null, null, ${history ? "s" : "0"}, ${history ? `s::bigint * ${rate("g")} / 3600` : "0"}
      from generate_series(1, ${INSTANCES}) g, lateral (select case when g = 1 and ${history} then 86400 else ${span} end as s) span`);
    if (history) {
      // The heavy instance's 29 ended runs, a day each, stopped and settled.
      await tx.unsafe(`insert into instance_runs (${runColumns})
        select ${run("1", "n")}, ${inst("1")}, n, 'local', 'local', 'L4', ${rate("1")},
               ${at(`-(${HEAVY_RUNS + 1} - n) * 86400`)}, ${at(`-(${HEAVY_RUNS} - n) * 86400 - 1`)}, ${at(`-(${HEAVY_RUNS} - n) * 86400 - 1`)},
               'stopped', ${at(`-(${HEAVY_RUNS} - n) * 86400`)}, 86399, 86399::bigint * ${rate("1")} / 3600
        from generate_series(1, ${HEAVY_RUNS - 1}) n`);
      // Early failures: 45 s after running, debited, refunded, settled; an hour before the live run.
      await tx.unsafe(`insert into instance_runs (${runColumns})
        select ${run("g", "1")}, ${inst("g")}, 1, 'local', 'local', 'L4', ${rate("g")},
               ${at(`-${span} - 3600`)}, ${at(`-${span} - 3555`)}, ${at(`-${span} - 3555`)}, 'failed', ${at(`-${span} - 3554`)}, 45, 45 * ${rate("g")} / 3600
        from generate_series(${EARLY_FAILURE_EVERY}, ${INSTANCES}, ${EARLY_FAILURE_EVERY}) g`);
    }
    const ledgerColumns = "id, account_id, kind, amount_cents, reference, instance_id, description, created_at";
    const led = (key: string) => `'led_' || left(md5(${key}), 20)`;
    // Top-ups before and during the history: three per account, one a day for the heavy account's month.
    await tx.unsafe(`insert into ledger_entries (${ledgerColumns})
      select ${led(`'topup:' || a || ':' || j`)}, ${acct("a")}, 'topup', 50000, 'cs_bench_' || a || '_' || j, null, 'Top-up', ${at(`-${span} - 7200 + j * ${span / 3}`)}
      from generate_series(2, ${ACCOUNTS}) a, generate_series(0, 2) j`);
    await tx.unsafe(`insert into ledger_entries (${ledgerColumns})
      select ${led(`'topup:1:' || j`)}, ${acct("1")}, 'topup', 200000, 'cs_bench_1_' || j, null, 'Top-up', ${at(`-(${HEAVY_RUNS} - j) * 86400 - 60`)}
      from generate_series(0, ${HEAVY_RUNS - 1}) j`);
    if (history) {
      let start = performance.now();
      // The heavy instance's month, run n's debit k (a day of ticks per run), set aside to be interleaved with the
      // other instances' ticks below: in a ledger where every tick also wrote 10,000 other debits, its entries are
      // spread through the heap, not stored together.
      await tx.unsafe(`create temp table bench_heavy on commit drop as
        select ${led(`'heavy:' || n || ':' || k`)} as id, ${acct("1")} as account_id, 'debit'::ledger_kind as kind,
               ${debitCents("60 * k", "60 * (k - 1)", rate("1"))} as amount_cents, 'debit:' || r.id || ':' || 60 * k as reference,
               ${inst("1")} as instance_id, ${description("60 * k", rate("1"), "r.id")} as description,
               ${at(`-(${HEAVY_RUNS + 1} - n) * 86400 + least(60 * k, 86399)`)} as created_at
        from generate_series(1, ${HEAVY_RUNS}) n cross join lateral (select ${run("1", "n")} as id) r
             cross join lateral generate_series(1, case when n = ${HEAVY_RUNS} then ${HEAVY_TICKS_PER_RUN} else ${HEAVY_TICKS_PER_RUN - 1} end) k`);
      // The ended runs' last debit is at 86,399 s (their end), not 86,400: their billed seconds.
      await tx.unsafe(`insert into bench_heavy
        select ${led(`'heavy:' || n || ':last'`)}, ${acct("1")}, 'debit', ${debitCents("86399", `60 * ${HEAVY_TICKS_PER_RUN - 1}`, rate("1"))},
               'debit:' || ${run("1", "n")} || ':86399', ${inst("1")}, ${description("86399", rate("1"), run("1", "n"))},
               ${at(`-(${HEAVY_RUNS} - n) * 86400 - 1`)}
        from generate_series(1, ${HEAVY_RUNS - 1}) n`);
      // Each of its entries goes with one of the ticks below (`slot`), at an even spread among that tick's rows (`pos`).
      await tx.unsafe(`create temp table bench_heavy_slots on commit drop as
        select h.*, 1 + ((h.nth - 1) * ${plan.ticks}) / t.total as slot, (((h.nth - 1) * ${plan.ticks}) % t.total)::float8 / t.total * ${INSTANCES} as pos
        from (select *, row_number() over (order by created_at) as nth from bench_heavy) h, (select count(*) as total from bench_heavy) t`);
      await tx.unsafe("create index on bench_heavy_slots (slot)");
      // Early failures: the settlement's debit, then its refund.
      await tx.unsafe(`insert into ledger_entries (${ledgerColumns})
        select ${led(`'early:' || g || ':' || e.kind`)}, ${acct(accountOf("g"))}, e.kind::ledger_kind,
               case when e.kind = 'debit' then -(45 * ${rate("g")} / 3600) else 45 * ${rate("g")} / 3600 end,
               case when e.kind = 'debit' then 'debit:' || ${run("g", "1")} || ':45' else 'refund:' || ${run("g", "1")} end,
               ${inst("g")},
               case when e.kind = 'debit' then ${description("45", rate("g"), run("g", "1"))}
                    else format('Refund of run %s: it ended (failed) after 45 s, within the first 60 s', ${run("g", "1")}) end,
               ${at(`-${span} - 3554`)} + case when e.kind = 'refund' then interval '1 ms' else interval '0' end
        from generate_series(${EARLY_FAILURE_EVERY}, ${INSTANCES}, ${EARLY_FAILURE_EVERY}) g, (values ('debit'), ('refund')) e(kind)`);
      log(`heavy instance and early failures: ${((performance.now() - start) / 1000).toFixed(1)} s`);

      // The regular live runs, numbered in run id order as the tick's batches take them.
      await tx.unsafe(`create temp table bench_runs on commit drop as
        select row_number() over (order by r.id) as ordinal, r.id, r.instance_id, i.account_id, r.rate_cents_per_hour::bigint as rate
        from instance_runs r join instances i on i.id = r.instance_id
        where r.ended_at is null and r.instance_id <> '${instanceId(1)}'`);
      // One statement per slice of ticks, in tick order (the lateral reference to k keeps k the outer loop), the
      // heavy instance's entries among each tick's: the heap ends up in the order the ticks would have appended it.
      const slice = Math.max(1, Math.floor(500_000 / INSTANCES));
      start = performance.now();
      for (let from = 1; from <= plan.ticks; from += slice) {
        const to = Math.min(plan.ticks, from + slice - 1);
        await tx.unsafe(`insert into ledger_entries (${ledgerColumns})
          select e.id, e.account_id, e.kind, e.amount_cents, e.reference, e.instance_id, e.description, e.created_at
          from generate_series(${from}, ${to}) k cross join lateral (
            select r.ordinal::float8 as pos, ${led(`'tick:' || r.ordinal || ':' || k`)} as id, r.account_id, 'debit'::ledger_kind as kind,
                   ${debitCents("60 * k", "60 * (k - 1)", "r.rate")} as amount_cents, 'debit:' || r.id || ':' || 60 * k as reference,
                   r.instance_id, ${description("60 * k", "r.rate", "r.id")} as description,
                   ${at(`-(${plan.ticks} - k) * 60 + ((r.ordinal - 1) / 1000) * 0.02`)} as created_at
            from bench_runs r where k > 0
            union all
            select h.pos, h.id, h.account_id, h.kind, h.amount_cents, h.reference, h.instance_id, h.description, h.created_at
            from bench_heavy_slots h where h.slot = k
            order by pos
          ) e`);
        if (to === plan.ticks || to % (slice * 4) === 0) {
          log(`ticks ${to} / ${plan.ticks}: ${((performance.now() - start) / 1000).toFixed(0)} s`);
        }
      }
    }
    await tx.unsafe(`insert into account_balances (account_id, balance_cents)
      select account_id, sum(amount_cents) from ledger_entries group by account_id`);
    const [{ rows }] = (await tx.unsafe("select count(*)::integer as rows from ledger_entries")) as unknown as [{ rows: number }];
    return { base, rows };
  });
}

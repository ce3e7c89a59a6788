import { sql } from "drizzle-orm";
import type { Transaction } from "../../db/client";
import { newId } from "../ids";
import { usageRollupCounts, usageRollupCtes } from "../usage/rollup";
import { billableSecondsSql, liveRunSql } from "./billable";

/** Which runs one billing statement claims: a batch of live runs after a cursor, or one run (settlement). */
export type BillScope = { live: true; afterId: string; limit: number } | { runId: string };

export interface BillResult {
  /** Runs claimed that had new whole seconds to bill; the last one is the next batch's cursor. */
  claimed: number;
  lastId: string | null;
  debits: number;
  debitedCents: number;
}

/**
 * Bills the runs in `scope` up to their billable end, in one statement of the
 * caller's transaction: claims the runs (`FOR UPDATE SKIP LOCKED`, so another
 * ticker's runs are left alone), moves each run's billed seconds forward and
 * sets its billed cents to floor(seconds × rate / 3600), appends one debit per
 * run for the difference (reference `debit:<run>:<seconds>`, unique, so a
 * replay cannot land twice), adds the debits to the accounts' stored
 * balances, starting grace as `postEntry` does, and adds each run's new
 * seconds and cents to its instance's usage rollups (src/usage/rollup.ts) in
 * the hour of the debit. Only runs with a new whole second are claimed, so a
 * repeated tick claims nothing and writes nothing.
 */
export async function billRuns(tx: Transaction, scope: BillScope): Promise<BillResult> {
  const claim = "runId" in scope ? sql`r.id = ${scope.runId}` : sql`${liveRunSql("r")} and r.id > ${scope.afterId}`;
  const limit = "runId" in scope ? 1 : scope.limit;
  // Ledger ids come from the one generator, handed in and paired with debits by row number.
  const ids = JSON.stringify(Array.from({ length: limit }, () => newId("ledgerEntry")));
  const [row] = await tx.execute<{ claimed: number; last_id: string | null; debits: number; cents: string }>(sql`
    with claimed as (
      -- The runs alone, in id order: the planner walks the live runs' index from the cursor and stops at the
      -- limit. Joined with instances here, it read every live run after the cursor at every batch.
      select r.id, r.instance_id, coalesce(r.rate_cents_per_hour, 0)::bigint as rate,
             r.billed_seconds, r.billed_cents, ${billableSecondsSql("r")} as seconds
      from instance_runs r
      where ${claim} and ${billableSecondsSql("r")} > r.billed_seconds
      order by r.id
      limit ${limit}
      for update of r skip locked
    ),
    billed as (
      select c.*, i.account_id, c.seconds * c.rate / 3600 as cents, row_number() over (order by c.id) as n
      from claimed c join instances i on i.id = c.instance_id
    ),
    runs as (
      update instance_runs r set billed_seconds = b.seconds, billed_cents = b.cents
      -- The ANY gives the planner the primary key: joined alone, it scans every run once per batch.
      from billed b where r.id = b.id and r.id = any(array(select id from billed))
      returning r.id
    ),
    entries as (
      insert into ledger_entries (id, account_id, kind, amount_cents, reference, instance_id, description)
      select ids.id, b.account_id, 'debit'::ledger_kind, b.billed_cents - b.cents, 'debit:' || b.id || ':' || b.seconds, b.instance_id,
             format('%s s at %s.%s €/h (run %s)', b.seconds, b.rate / 100, lpad((b.rate % 100)::text, 2, '0'), b.id)
      from billed b join jsonb_array_elements_text(${ids}::jsonb) with ordinality as ids(id, n) on ids.n = b.n
      where b.cents > b.billed_cents
      returning account_id, amount_cents
    ),
    balances as (
      -- One row per account, in account order so concurrent tickers lock balances in the same order.
      insert into account_balances (account_id, balance_cents, grace_started_at)
      select account_id, sum(amount_cents)::bigint, case when sum(amount_cents) < 0 then now() end
      from entries group by account_id order by account_id
      on conflict (account_id) do update set
        balance_cents = account_balances.balance_cents + excluded.balance_cents,
        grace_started_at = case when account_balances.balance_cents + excluded.balance_cents >= 0 then null
                                else coalesce(account_balances.grace_started_at, now()) end,
        updated_at = now()
      returning account_id
    ),
    -- What each run adds to its instance's usage: its new seconds, even without a new cent, and the cents its
    -- debit takes, dated now(), the entries' own created_at, so the rollups sum to the ledger hour by hour.
    usage_deltas as (
      select b.instance_id, b.account_id, now() as at, b.cents - b.billed_cents as cost_cents,
             b.seconds - b.billed_seconds as billable_seconds, 0 as refunded_cents
      from billed b
    ),
    ${usageRollupCtes()}
    select (select count(*) from runs)::integer as claimed, (select max(id) from runs) as last_id,
           (select count(*) from entries)::integer as debits, coalesce((select -sum(amount_cents) from entries), 0)::text as cents,
           (select count(*) from balances)::integer as accounts, ${usageRollupCounts()}`);
  return { claimed: row!.claimed, lastId: row!.last_id, debits: row!.debits, debitedCents: Number(row!.cents) };
}

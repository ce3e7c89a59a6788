import { type SQL, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { type LedgerEntry, type NewLedgerEntry, type Posted, postEntry } from "../billing/ledger";
import { withTransaction } from "../context";

/**
 * The hourly rollups' writes, as data-modifying CTEs that add the rows of a CTE named `usage_deltas`
 * (instance_id, account_id, at, cost_cents, billable_seconds, refunded_cents) to the UTC hour of `at` (the
 * daily rollup is folded from the instance hours later: `foldUsageDays`). The caller's statement runs them in
 * its own transaction, beside the ledger entries they mirror, and names them in its final select
 * (`usageRollupCounts`) so every writer takes the row locks in one order: the balance first (its own CTE or
 * `postEntry`), then instance hours, account hours, each sorted by key. Two writers of one instance or account
 * wait for each other; they never deadlock.
 */
export function usageRollupCtes(): SQL {
  const add = sql.raw(`cost_cents = u.cost_cents + excluded.cost_cents,
      billable_seconds = u.billable_seconds + excluded.billable_seconds,
      refunded_cents = u.refunded_cents + excluded.refunded_cents`);
  return sql`
    usage_instance_hours as (
      insert into instance_usage_hourly as u (instance_id, hour, account_id, cost_cents, billable_seconds, refunded_cents)
      select instance_id, date_trunc('hour', at, 'UTC'), account_id, sum(cost_cents), sum(billable_seconds), sum(refunded_cents)
      from usage_deltas group by 1, 2, 3 order by 1, 2
      on conflict (instance_id, hour) do update set ${add}
      returning 1
    ),
    usage_account_hours as (
      insert into account_usage_hourly as u (account_id, hour, cost_cents, billable_seconds, refunded_cents)
      select account_id, date_trunc('hour', at, 'UTC'), sum(cost_cents), sum(billable_seconds), sum(refunded_cents)
      from usage_deltas group by 1, 2 order by 1, 2
      on conflict (account_id, hour) do update set ${add}
      returning 1
    )`;
}

/** The final select's columns that run the rollup CTEs, in lock order (see `usageRollupCtes`). */
export function usageRollupCounts(): SQL {
  return sql`(select count(*) from usage_instance_hours)::integer as usage_instance_hours,
    (select count(*) from usage_account_hours)::integer as usage_account_hours`;
}

/**
 * Adds one posted ledger entry to the rollups, in the caller's transaction (the one that posted it): a
 * refund to the refunds, a debit to the cost, in the hour of the entry's `created_at`. Only entries of an
 * instance of the entry's own account count; anything else (a top-up, an adjustment, a debit naming no
 * instance or another account's) is no instance's usage, and adds nothing.
 */
export async function rollUpEntry(tx: Executor, entry: Pick<LedgerEntry, "id" | "kind" | "instanceId">): Promise<void> {
  if (!entry.instanceId || (entry.kind !== "debit" && entry.kind !== "refund")) return;
  await tx.execute(sql`
    with usage_deltas as (
      select e.instance_id, e.account_id, e.created_at as at,
             case when e.kind = 'debit' then -e.amount_cents else 0 end as cost_cents, 0 as billable_seconds,
             case when e.kind = 'refund' then e.amount_cents else 0 end as refunded_cents
      from ledger_entries e join instances i on i.id = e.instance_id and i.account_id = e.account_id
      where e.id = ${entry.id}
    ),
    ${usageRollupCtes()}
    select ${usageRollupCounts()}`);
}

/**
 * `postEntry` for the debits and refunds of an instance posted outside the billing tick (a settlement's
 * refund, the scheduler's `POST /billing/debit`): the entry and its usage in one transaction, the usage
 * added only when the entry is new, so a replay of the reference adds nothing.
 */
export async function postInstanceEntry(db: Executor, input: NewLedgerEntry): Promise<Posted> {
  return withTransaction(db, async (tx) => {
    const posted = await postEntry(tx, input);
    if (posted.created) await rollUpEntry(tx, posted.entry);
    return posted;
  });
}

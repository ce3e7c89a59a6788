import { sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { foldedThroughSql } from "./fold";

export interface UsageDrift {
  /** Which sum disagrees: an instance's hour against the ledger, its day or its account's hour against its hours, its seconds against its runs. */
  check: "instance hour" | "instance day" | "account hour" | "instance seconds";
  /** The instance (or, for "account hour", the account). */
  subject: string;
  /** The hour or day, ISO; null for the seconds. */
  at: string | null;
  rollup: string;
  expected: string;
}

/**
 * Where the usage rollups disagree with what they are sums of: always empty, or there is a bug. Cost and
 * refunds of every instance hour against the ledger's debits and refunds dated in it (entries of an instance of
 * their own account), each folded instance day and each account hour against the instance hours, and each instance's
 * seconds against its runs' billed seconds. A whole-table check, as `findBalanceDrift` is; `accountId` narrows it.
 */
export async function findUsageDrift(db: Executor, accountId?: string): Promise<UsageDrift[]> {
  const only = (column: string) => (accountId ? sql`${sql.raw(column)} = ${accountId}` : sql`true`);
  const rows = await db.execute<UsageDrift & Record<string, unknown>>(sql`
    with ledger as (
      select e.instance_id, date_trunc('hour', e.created_at, 'UTC') as hour,
             coalesce(-sum(e.amount_cents) filter (where e.kind = 'debit'), 0) as cost,
             coalesce(sum(e.amount_cents) filter (where e.kind = 'refund'), 0) as refunded
      from ledger_entries e join instances i on i.id = e.instance_id and i.account_id = e.account_id
      where e.kind in ('debit', 'refund') and ${only("e.account_id")}
      group by 1, 2
    ),
    hours as (select * from instance_usage_hourly where ${only("account_id")})
    select 'instance hour' as "check", coalesce(l.instance_id, h.instance_id) as subject, coalesce(l.hour, h.hour)::text as at,
           concat(h.cost_cents, ' / ', h.refunded_cents) as rollup, concat(l.cost, ' / ', l.refunded) as expected
    from ledger l full join hours h on h.instance_id = l.instance_id and h.hour = l.hour
    where coalesce(l.cost, 0) <> coalesce(h.cost_cents, 0) or coalesce(l.refunded, 0) <> coalesce(h.refunded_cents, 0)
    union all
    select 'instance day', coalesce(d.instance_id, h.instance_id), coalesce(d.day, h.day)::text,
           concat(d.cost_cents, ' / ', d.billable_seconds, ' / ', d.refunded_cents), concat(h.cost, ' / ', h.seconds, ' / ', h.refunded)
    from (select * from instance_usage_daily where ${only("account_id")} and day < ${foldedThroughSql}) d
    full join (select instance_id, date_trunc('day', hour, 'UTC') as day, sum(cost_cents) as cost, sum(billable_seconds) as seconds,
                      sum(refunded_cents) as refunded from hours where hour < ${foldedThroughSql} group by 1, 2) h
      on h.instance_id = d.instance_id and h.day = d.day
    where (d.cost_cents, d.billable_seconds, d.refunded_cents) is distinct from (h.cost, h.seconds, h.refunded)
    union all
    select 'account hour', coalesce(a.account_id, h.account_id), coalesce(a.hour, h.hour)::text,
           concat(a.cost_cents, ' / ', a.billable_seconds, ' / ', a.refunded_cents), concat(h.cost, ' / ', h.seconds, ' / ', h.refunded)
    from (select * from account_usage_hourly where ${only("account_id")}) a
    full join (select account_id, hour, sum(cost_cents) as cost, sum(billable_seconds) as seconds, sum(refunded_cents) as refunded
               from hours group by 1, 2) h on h.account_id = a.account_id and h.hour = a.hour
    where (a.cost_cents, a.billable_seconds, a.refunded_cents) is distinct from (h.cost, h.seconds, h.refunded)
    union all
    select 'instance seconds', coalesce(r.instance_id, h.instance_id), null, h.seconds::text, r.seconds::text
    from (select r.instance_id, sum(r.billed_seconds) as seconds from instance_runs r join instances i on i.id = r.instance_id
          where ${only("i.account_id")} group by 1) r
    full join (select instance_id, sum(billable_seconds) as seconds from hours group by 1) h on h.instance_id = r.instance_id
    where coalesce(r.seconds, 0) <> coalesce(h.seconds, 0)`);
  return rows.map(({ check, subject, at, rollup, expected }) => ({ check, subject, at, rollup, expected }));
}

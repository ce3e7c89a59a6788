import { and, eq, inArray, sql } from "drizzle-orm";
import { PgTransaction } from "drizzle-orm/pg-core";
import type { Executor, Transaction } from "../../db/client";
import { accounts, accountUsageHourly, instanceUsageHourly } from "../../db/schema";
import type { AccountContext } from "../context";
import { NotFoundError } from "../errors";
import { layoutBuckets, type UsageLayout } from "./buckets";
import { databaseNow } from "./clock";
import { foldedThroughSql } from "./fold";
import { type AccountUsageQuery, accountUsageQuery } from "./schemas";
import { slotStarts, slotSums, toBuckets, toCards } from "./sums";
import type { AccountUsage, InstanceCost } from "./types";

/** Instances the stacks name; the rest of each bar is one "other" row. */
export const TOP_INSTANCES = 10;

const DAY_MS = 86_400_000;

/**
 * The account's Usage page: cost, billable seconds and refunds per bucket across every instance (deleted ones
 * too: their cost was real), each bar split into the top instances of the range and "other", and the cards.
 * Three reads of one snapshot (repeatable read), so a tick committing meanwhile cannot make the stacks
 * disagree with their bars: the bars from the account's hourly rollup, the ranking from the instances'
 * daily rollup (whole UTC days) and hourly one (the range's ragged ends), the stacks from the top
 * instances' hours.
 */
export async function accountUsage(ctx: AccountContext, input: AccountUsageQuery): Promise<AccountUsage> {
  const { range, timeZone, now } = accountUsageQuery.parse(input);
  const [account] = await ctx.db.select({ createdAt: accounts.createdAt }).from(accounts).where(eq(accounts.id, ctx.accountId));
  if (!account) throw new NotFoundError("Account", ctx.accountId);
  const layout = layoutBuckets(range, timeZone, now ?? (await databaseNow(ctx.db)));

  return readSnapshot(ctx.db, async (tx) => {
    const where = eq(accountUsageHourly.accountId, ctx.accountId);
    const { slots, monthToDateCents } = await slotSums(tx, { table: accountUsageHourly, where }, layout);
    const top = await topInstances(tx, ctx.accountId, layout);
    const stacks = await stacksOf(tx, ctx.accountId, layout, top);
    const buckets = toBuckets(layout, slots).map((bucket, i) => {
      const byInstance = top.map((instance) => ({ instanceId: instance.instanceId, costCents: stacks.get(`${instance.instanceId} ${i + 1}`) ?? 0 }));
      const named = byInstance.reduce((sum, row) => sum + row.costCents, 0);
      return { ...bucket, byInstance: [...byInstance, { instanceId: null, costCents: bucket.costCents - named }] };
    });
    return { range, timeZone, buckets, topInstances: top, cards: toCards(layout, slots, monthToDateCents, account.createdAt) };
  });
}

function readSnapshot<T>(db: Executor, fn: (tx: Executor) => Promise<T>): Promise<T> {
  // Inside a caller's transaction its snapshot rules; else a read-only one of our own.
  if (db instanceof PgTransaction) return fn(db as Transaction);
  return db.transaction(fn, { isolationLevel: "repeatable read", accessMode: "read only" });
}

/**
 * The range's most expensive instances. The range's whole, folded UTC days come from the daily rollup, one row
 * per instance and day (1,000 instances over 90 days: 90,000 rows where the hours would be 2.16 million), and
 * the hours before the first whole day and from the fold's mark (or the last whole day) on from the hourly one.
 */
async function topInstances(db: Executor, accountId: string, layout: UsageLayout): Promise<InstanceCost[]> {
  const from = layout.from.getTime();
  const to = layout.to.getTime();
  let days = { from: Math.ceil(from / DAY_MS) * DAY_MS, to: Math.floor(to / DAY_MS) * DAY_MS };
  if (days.to <= days.from) days = { from: to, to };
  const at = (ms: number) => sql`${new Date(ms).toISOString()}::timestamptz`;
  const rows = await db.execute<{ instance_id: string; cost: string; seconds: string; refunded: string; name: string; deleted: boolean }>(sql`
    with split as (select least(greatest(${foldedThroughSql}, ${at(days.from)}), ${at(days.to)}) as at),
    ranked as (
      select instance_id, sum(cost_cents) as cost, sum(billable_seconds) as seconds, sum(refunded_cents) as refunded
      from (
        select instance_id, cost_cents, billable_seconds, refunded_cents from instance_usage_daily
        where account_id = ${accountId} and day >= ${at(days.from)} and day < (select at from split)
        union all
        select instance_id, cost_cents, billable_seconds, refunded_cents from instance_usage_hourly
        where account_id = ${accountId} and hour >= ${at(from)} and hour < ${at(days.from)}
        union all
        select instance_id, cost_cents, billable_seconds, refunded_cents from instance_usage_hourly
        where account_id = ${accountId} and hour >= (select at from split) and hour < ${at(to)}
      ) usage
      group by instance_id
      order by cost desc, seconds desc, instance_id
      limit ${TOP_INSTANCES}
    )
    select r.instance_id, r.cost::text, r.seconds::text, r.refunded::text,
           coalesce(i.name, i.serving_name, left(r.instance_id, 13)) as name, i.id is null or i.deleted_at is not null as deleted
    from ranked r left join instances i on i.id = r.instance_id and i.account_id = ${accountId}
    order by r.cost desc, r.seconds desc, r.instance_id`);
  return rows.map((row) => ({
    instanceId: row.instance_id,
    name: row.name,
    deleted: row.deleted,
    costCents: Number(row.cost),
    billableSeconds: Number(row.seconds),
    refundedCents: Number(row.refunded),
  }));
}

/** The top instances' cost per slot, keyed `<instance> <slot>` (slots from 1). */
async function stacksOf(db: Executor, accountId: string, layout: UsageLayout, top: InstanceCost[]): Promise<Map<string, number>> {
  if (top.length === 0) return new Map();
  const rows = await db.execute<{ instance_id: string; slot: number; cost: string }>(sql`
    select instance_id, width_bucket(hour, ${slotStarts(layout.slots)}) as slot, sum(cost_cents)::text as cost
    from ${instanceUsageHourly}
    where ${and(
      eq(instanceUsageHourly.accountId, accountId),
      inArray(
        instanceUsageHourly.instanceId,
        top.map((instance) => instance.instanceId),
      ),
    )} and hour >= ${layout.from.toISOString()}::timestamptz and hour < ${layout.to.toISOString()}::timestamptz
    group by 1, 2`);
  return new Map(rows.map((row) => [`${row.instance_id} ${row.slot}`, Number(row.cost)]));
}

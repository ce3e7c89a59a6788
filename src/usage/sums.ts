import { type SQL, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import type { accountUsageHourly, instanceUsageHourly } from "../../db/schema";
import { type BucketSlot, daysExisted, isPartial, type UsageLayout } from "./buckets";
import type { UsageBucket, UsageCards } from "./types";

export interface Sums {
  costCents: number;
  billableSeconds: number;
  refundedCents: number;
}

const zero = (): Sums => ({ costCents: 0, billableSeconds: 0, refundedCents: 0 });

/** The slots' starts as one `timestamptz[]` parameter, for `width_bucket` (1 = the first slot, 0 = before it). */
export function slotStarts(slots: BucketSlot[]): SQL {
  return sql`${`{${slots.map((slot) => slot.start.toISOString()).join(",")}}`}::timestamptz[]`;
}

const iso = (date: Date) => sql`${date.toISOString()}::timestamptz`;

/**
 * One rollup's sums per slot of `layout`, and the cost since the start of the month, which may begin before
 * the range (24h, 7d): one scan of the subject's hours from the earlier of the two.
 */
export async function slotSums(
  db: Executor,
  subject: { table: typeof instanceUsageHourly | typeof accountUsageHourly; where: SQL },
  layout: UsageLayout,
): Promise<{ slots: Sums[]; monthToDateCents: number }> {
  const from = new Date(Math.min(layout.monthStart.getTime(), layout.from.getTime()));
  const rows = await db.execute<{ slot: number; cost: string; seconds: string; refunded: string; month: string }>(sql`
    select width_bucket(hour, ${slotStarts(layout.slots)}) as slot, sum(cost_cents)::text as cost,
           sum(billable_seconds)::text as seconds, sum(refunded_cents)::text as refunded,
           coalesce(sum(cost_cents) filter (where hour >= ${iso(layout.monthStart)}), 0)::text as month
    from ${subject.table}
    where ${subject.where} and hour >= ${iso(from)} and hour < ${iso(layout.to)}
    group by 1`);
  const slots = layout.slots.map(zero);
  let monthToDateCents = 0;
  for (const row of rows) {
    monthToDateCents += Number(row.month);
    // Slot 0 holds the month's hours before the range: counted for the month, shown in no bucket.
    if (row.slot === 0) continue;
    slots[row.slot - 1] = { costCents: Number(row.cost), billableSeconds: Number(row.seconds), refundedCents: Number(row.refunded) };
  }
  return { slots, monthToDateCents };
}

/** The contract's buckets: the slots in order, every one present (zero when nothing was billed), the growing ones partial. */
export function toBuckets(layout: UsageLayout, sums: Sums[]): UsageBucket[] {
  return layout.slots.map((slot, i) => ({
    start: slot.start.toISOString(),
    end: slot.end.toISOString(),
    granularity: slot.granularity,
    ...sums[i]!,
    partial: isPartial(slot, layout),
  }));
}

/**
 * The summary cards. The average is the range's cost over the days of the range on which the subject existed
 * (`daysExisted`), rounded to the nearest cent (half up); 0 over no day.
 */
export function toCards(layout: UsageLayout, buckets: Sums[], monthToDateCents: number, createdAt: Date): UsageCards {
  const total = buckets.reduce(
    (sum, bucket) => ({
      costCents: sum.costCents + bucket.costCents,
      billableSeconds: sum.billableSeconds + bucket.billableSeconds,
      refundedCents: sum.refundedCents + bucket.refundedCents,
    }),
    zero(),
  );
  const daysCounted = daysExisted(layout, createdAt);
  return {
    monthToDateCents,
    averageDailyCents: daysCounted === 0 ? 0 : Math.round(total.costCents / daysCounted),
    daysCounted,
    activeSeconds: total.billableSeconds,
    refundedCents: total.refundedCents,
  };
}

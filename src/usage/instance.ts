import { and, eq } from "drizzle-orm";
import { instanceUsageHourly } from "../../db/schema";
import type { AccountContext } from "../context";
import { getInstance } from "../instances/queries";
import { layoutBuckets } from "./buckets";
import { databaseNow } from "./clock";
import { type InstanceUsageQuery, instanceUsageQuery } from "./schemas";
import { slotSums, toBuckets, toCards } from "./sums";
import type { InstanceUsage } from "./types";

/**
 * The Usage tab: an instance's cost, billable seconds and refunds per bucket of the range in the viewer's
 * zone (src/usage/buckets.ts), from its hourly rollup, and the summary cards. One statement reads the
 * buckets and the month to date, so they agree with each other and, hour by hour, with the ledger.
 * Another account's instance, or a deleted one, is not found.
 */
export async function instanceUsage(ctx: AccountContext, input: InstanceUsageQuery): Promise<InstanceUsage> {
  const { instanceId, range, timeZone, now } = instanceUsageQuery.parse(input);
  const [instance, at] = await Promise.all([getInstance(ctx, instanceId), now ?? databaseNow(ctx.db)]);
  const layout = layoutBuckets(range, timeZone, at);
  const where = and(eq(instanceUsageHourly.accountId, ctx.accountId), eq(instanceUsageHourly.instanceId, instance.id))!;
  const { slots, monthToDateCents } = await slotSums(ctx.db, { table: instanceUsageHourly, where }, layout);
  return {
    instanceId: instance.id,
    range,
    timeZone,
    buckets: toBuckets(layout, slots),
    cards: toCards(layout, slots, monthToDateCents, instance.createdAt),
  };
}

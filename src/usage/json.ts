import type { AccountUsage, InstanceCost, InstanceUsage, UsageBucket, UsageCards } from "./types";

/**
 * Usage as `GET /billing/usage` and `qdz usage --json` show it, in the Billing document's snake_case: the
 * same numbers as the tRPC types, cents and whole seconds.
 */
export function usageJson(usage: InstanceUsage | AccountUsage) {
  return "instanceId" in usage ? instanceUsageJson(usage) : accountUsageJson(usage);
}

export function instanceUsageJson(usage: InstanceUsage) {
  return {
    instance_id: usage.instanceId,
    range: usage.range,
    time_zone: usage.timeZone,
    buckets: usage.buckets.map(bucketJson),
    cards: cardsJson(usage.cards),
  };
}

export function accountUsageJson(usage: AccountUsage) {
  return {
    range: usage.range,
    time_zone: usage.timeZone,
    buckets: usage.buckets.map((bucket) => ({
      ...bucketJson(bucket),
      by_instance: bucket.byInstance.map((row) => ({ instance_id: row.instanceId, cost_cents: row.costCents })),
    })),
    top_instances: usage.topInstances.map(instanceCostJson),
    cards: cardsJson(usage.cards),
  };
}

export type UsageJson = ReturnType<typeof usageJson>;

function bucketJson(bucket: UsageBucket) {
  return {
    start: bucket.start,
    end: bucket.end,
    granularity: bucket.granularity,
    cost_cents: bucket.costCents,
    billable_seconds: bucket.billableSeconds,
    refunded_cents: bucket.refundedCents,
    partial: bucket.partial,
  };
}

function instanceCostJson(instance: InstanceCost) {
  return {
    instance_id: instance.instanceId,
    name: instance.name,
    deleted: instance.deleted,
    cost_cents: instance.costCents,
    billable_seconds: instance.billableSeconds,
    refunded_cents: instance.refundedCents,
  };
}

function cardsJson(cards: UsageCards) {
  return {
    month_to_date_cents: cards.monthToDateCents,
    average_daily_cents: cards.averageDailyCents,
    days_counted: cards.daysCounted,
    active_seconds: cards.activeSeconds,
    refunded_cents: cards.refundedCents,
  };
}

import { and, desc, eq, sql } from "drizzle-orm";
import { instanceRuns, ledgerEntries } from "../../db/schema";
import type { AccountContext } from "../context";
import { getInstance } from "../instances/queries";

/**
 * `qdz instances show --metered` and the Details tab: an instance's metering,
 * in the Pods document's snake_case, with the ledger beside the arithmetic so
 * anyone can check floor(seconds_billed × rate_cents_per_hour / 3600) against
 * what was debited. Two queries: the scoped instance, then its runs with their
 * ledger sums.
 */
export async function meteredInstance(ctx: AccountContext, instanceId: string) {
  const instance = await getInstance(ctx, instanceId);
  // Each run's entries by the run id in their reference (`debit:<run>:<seconds>`, `refund:<run>`; ids have no
  // colon), an equality the planner can hash: the instance's entries are read once for all its runs, where a
  // prefix match per run read all of them again for every run (a month at a 60 s tick is ~43,000 debits).
  // The account test sits in the sums, not in the scan: as a scan condition, the planner intersected the
  // instance's entries with every entry of the account (half a million in a heavy one) to drop none.
  const own = sql`${ledgerEntries.accountId} = ${ctx.accountId}`;
  const rows = await ctx.db
    .select({
      id: instanceRuns.id,
      number: instanceRuns.number,
      runningAt: instanceRuns.runningAt,
      endedAt: instanceRuns.endedAt,
      endedBecause: instanceRuns.endedBecause,
      billedSeconds: instanceRuns.billedSeconds,
      rateCentsPerHour: instanceRuns.rateCentsPerHour,
      settledAt: instanceRuns.settledAt,
      debitedCents: sql<number>`coalesce(-sum(${ledgerEntries.amountCents}) filter (where ${own} and ${ledgerEntries.kind} = 'debit'), 0)`.mapWith(Number),
      refundedCents: sql<number>`coalesce(sum(${ledgerEntries.amountCents}) filter (where ${own} and ${ledgerEntries.kind} = 'refund'), 0)`.mapWith(Number),
    })
    .from(instanceRuns)
    .leftJoin(
      ledgerEntries,
      and(
        eq(ledgerEntries.instanceId, instanceRuns.instanceId),
        sql`split_part(${ledgerEntries.reference}, ':', 2) = ${instanceRuns.id}`,
        sql`((${ledgerEntries.kind} = 'debit' and ${ledgerEntries.reference} like 'debit:%:%')
          or (${ledgerEntries.kind} = 'refund' and ${ledgerEntries.reference} = 'refund:' || ${instanceRuns.id}))`,
      ),
    )
    .where(eq(instanceRuns.instanceId, instance.id))
    .groupBy(instanceRuns.id)
    .orderBy(desc(instanceRuns.number));

  const runs = rows.map((row) => ({
    run_id: row.id,
    number: row.number,
    running_at: row.runningAt,
    ended_at: row.endedAt,
    ended_because: row.endedBecause,
    seconds_billed: row.billedSeconds,
    rate_cents_per_hour: row.rateCentsPerHour,
    debited_cents: row.debitedCents,
    refunded_cents: row.refundedCents,
    settled: row.settledAt !== null,
  }));
  // The current run, or the last one: runs come newest first.
  const current = runs[0];
  // Before any pod is placed the run has no rate yet; the instance's locked rate (null before placement) stands in.
  const rate = current?.rate_cents_per_hour ?? instance.rateCentsPerHour;
  const seconds = current?.seconds_billed ?? 0;
  return {
    instance_id: instance.id,
    seconds_billed: seconds,
    rate_per_hour: rate === null ? null : rate / 100,
    rate_cents_per_hour: rate,
    current_charge: rate === null ? 0 : chargeEur(seconds, rate),
    debited_cents: current?.debited_cents ?? 0,
    refunded_cents: current?.refunded_cents ?? 0,
    runs,
    total: {
      seconds_billed: sum(runs, (run) => run.seconds_billed),
      debited_cents: sum(runs, (run) => run.debited_cents),
      refunded_cents: sum(runs, (run) => run.refunded_cents),
    },
  };
}

export type Metered = Awaited<ReturnType<typeof meteredInstance>>;

/**
 * seconds × rate / 3600 in EUR, cut (not rounded) to three decimals: a tenth of a cent finer than the
 * ledger, so 4,827 s at €2.80/h reads 3.754 beside its 375 debited cents. Integer arithmetic until the end.
 */
export function chargeEur(seconds: number, rateCentsPerHour: number): number {
  return Math.floor((seconds * rateCentsPerHour * 10) / 3600) / 1000;
}

const sum = <T>(items: T[], of: (item: T) => number) => items.reduce((total, item) => total + of(item), 0);

import { sql } from "drizzle-orm";
import type { AccountContext } from "../context";
import { liveRunSql } from "./billable";
import { isLowRunway, runwaySeconds } from "./forecast";

export interface Runway {
  /** The stored balance the runway is measured from (what the billing tick has debited so far). */
  balanceCents: number;
  /** The locked hourly rates of the account's runs being billed now, together. */
  burnRateCentsPerHour: number;
  /** How many runs are being billed now: one per running instance. */
  runningInstances: number;
  /** Whole seconds the balance lasts at the burn rate; null while nothing burns, 0 once it is used up. */
  runwaySeconds: number | null;
  /** Shorter than the minimum runway a launch needs: the Billing and instance pages and `qdz balance` warn. */
  lowRunway: boolean;
}

/**
 * The account's live burn rate and the runway of its stored balance at that rate, in one statement:
 * the burn sums the locked `rate_cents_per_hour` of the runs the billing tick bills (metering's
 * `liveRunSql`), never the instances' states or the catalog.
 */
export async function accountRunway(ctx: AccountContext, input: { minRunwayHours: number }): Promise<Runway> {
  // An aggregate without GROUP BY answers one row even when nothing runs; bigint sums come back as text.
  const [row] = await ctx.db.execute<{ balance_cents: string; burn: string; runs: number }>(sql`
    select coalesce((select b.balance_cents from account_balances b where b.account_id = ${ctx.accountId}), 0)::text as balance_cents,
           coalesce(sum(r.rate_cents_per_hour), 0)::text as burn,
           count(*)::integer as runs
    from instance_runs r join instances i on i.id = r.instance_id
    where i.account_id = ${ctx.accountId} and ${liveRunSql("r")}`);
  const balanceCents = Number(row!.balance_cents);
  const burnRateCentsPerHour = Number(row!.burn);
  const runway = runwaySeconds(balanceCents, burnRateCentsPerHour);
  return {
    balanceCents,
    burnRateCentsPerHour,
    runningInstances: row!.runs,
    runwaySeconds: runway,
    lowRunway: isLowRunway(runway, input.minRunwayHours),
  };
}

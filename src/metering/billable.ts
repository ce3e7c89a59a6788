import { type SQL, sql } from "drizzle-orm";

/** The times a run's billable seconds are read from; null where the run never got there. */
export interface RunTimes {
  runningAt: Date | null;
  /** The api's receive time of the last heartbeat: proof the pod was alive until then. */
  lastHeartbeatAt: Date | null;
  /** When billing stopped (the database clock): the stop request, the failure or loss detected, the reclaim. */
  endedAt: Date | null;
}

/** Runs that end this way within `EARLY_FAILURE_SECONDS` of billing are refunded in full; a stop by the user or by grace never is. */
export const REFUNDABLE_ENDS = ["failed", "lost", "reclaimed"] as const;
export const EARLY_FAILURE_SECONDS = 60;

/**
 * Whole seconds from `running_at` to the earliest of the end and the last
 * heartbeat (running_at itself when none came yet). Runs that never reached
 * running bill nothing; the fraction of a second is never billed, so an
 * immediate re-tick cannot bill a slice. `billableSecondsSql` is the same rule.
 */
export function billableSeconds(run: RunTimes): number {
  if (!run.runningAt) return 0;
  const alive = (run.lastHeartbeatAt ?? run.runningAt).getTime();
  const end = run.endedAt ? Math.min(run.endedAt.getTime(), alive) : alive;
  return Math.max(0, Math.floor((end - run.runningAt.getTime()) / 1000));
}

/** What `seconds` at `rateCentsPerHour` cost in total, rounded down to the cent: the cumulative rule. */
export function chargeCents(seconds: number, rateCentsPerHour: number): number {
  // Integer arithmetic: seconds × rate stays far below 2^53 (a century at 10,000 €/h).
  return Math.floor((seconds * rateCentsPerHour) / 3600);
}

/** True when the end earns a full refund of what the run was debited. */
export function refundable(endedBecause: string | null, seconds: number): boolean {
  return (REFUNDABLE_ENDS as readonly string[]).includes(endedBecause ?? "") && seconds < EARLY_FAILURE_SECONDS;
}

/**
 * `billableSeconds` in SQL over an `instance_runs` row aliased `alias`, as an
 * integer (0 for a run that never reached running). The floor is taken on
 * the exact interval (microseconds), never on a rounded one.
 */
export function billableSecondsSql(alias: string): SQL {
  const r = sql.raw(alias);
  return sql`coalesce(greatest(0, floor(extract(epoch from
    least(coalesce(${r}.ended_at, 'infinity'::timestamptz), coalesce(${r}.last_heartbeat_at, ${r}.running_at)) - ${r}.running_at)))::integer, 0)`;
}

/**
 * The runs being billed now, over an `instance_runs` row aliased `alias`: reached running and not ended.
 * The tick claims these (`bill.ts`, served by `instance_runs_billable_idx`); the live burn rate sums them.
 */
export function liveRunSql(alias: string): SQL {
  const r = sql.raw(alias);
  return sql`${r}.ended_at is null and ${r}.running_at is not null`;
}

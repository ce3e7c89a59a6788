import { type SQL, sql } from "drizzle-orm";
import type { Database } from "../../db/client";

export interface FoldOptions {
  /**
   * How long after a UTC day ends before it is folded. A ledger entry is dated by its transaction's start, so a
   * tick that began before midnight may still be adding to the day's last hour after it; an hour is far longer
   * than any tick or settlement transaction.
   */
  settleMinutes?: number;
  /** Days per run (each its own transaction); a longer backlog waits for the next run. */
  maxDays?: number;
  /** Stands in for the database's now() (tests). */
  now?: Date;
}

export interface FoldReport {
  /** The daily rollup now holds every day before this (ISO, UTC); null when another worker held the fold. */
  foldedThrough: string | null;
  days: number;
  rows: number;
}

/**
 * Folds every whole UTC day after `usage_daily_fold.folded_through` from the instance hours into
 * `instance_usage_daily`, one day per transaction, and moves the mark past it in the same transaction. A day's
 * rows are replaced, not added to, so folding a day twice (a retried job) writes the same sums. The mark's row
 * is claimed with SKIP LOCKED: of several workers folding at once, one folds and the others return at once.
 */
export async function foldUsageDays(db: Database, options: FoldOptions = {}): Promise<FoldReport> {
  const { settleMinutes = 60, maxDays = 31 } = options;
  const now: SQL = options.now ? sql`${options.now.toISOString()}::timestamptz` : sql`now()`;
  const report: FoldReport = { foldedThrough: null, days: 0, rows: 0 };
  for (;;) {
    const step = await db.transaction(async (tx) => {
      const [mark] = await tx.execute<{ day: string; due: boolean }>(sql`
        select to_char(folded_through at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as day,
               folded_through + interval '1 day' <= ${now} - make_interval(mins => ${settleMinutes}) as due
        from usage_daily_fold for update skip locked`);
      if (!mark) return null;
      if (!mark.due || report.days >= maxDays) return { foldedThrough: mark.day, rows: -1 };
      const day = sql`${mark.day}::timestamptz`;
      await tx.execute(sql`delete from instance_usage_daily where day = ${day}`);
      const [folded] = await tx.execute<{ rows: number }>(sql`
        with folded as (
          insert into instance_usage_daily (instance_id, day, account_id, cost_cents, billable_seconds, refunded_cents)
          select instance_id, ${day}, account_id, sum(cost_cents), sum(billable_seconds), sum(refunded_cents)
          from instance_usage_hourly where hour >= ${day} and hour < ${day} + interval '1 day'
          group by instance_id, account_id
          returning 1)
        select count(*)::integer as rows from folded`);
      const [moved] = await tx.execute<{ day: string }>(sql`
        update usage_daily_fold set folded_through = folded_through + interval '1 day'
        returning to_char(folded_through at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as day`);
      return { foldedThrough: moved!.day, rows: folded!.rows };
    });
    if (!step) return report;
    report.foldedThrough = step.foldedThrough;
    if (step.rows < 0) return report;
    report.days += 1;
    report.rows += step.rows;
  }
}

/**
 * Where a reader's range splits between the daily rollup (before it) and the instance hours (from it): the fold
 * mark, read in the reader's own statement so both halves come from one snapshot.
 */
export const foldedThroughSql: SQL = sql`coalesce((select folded_through from usage_daily_fold), '-infinity'::timestamptz)`;

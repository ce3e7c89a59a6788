import { sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { resourceSamples } from "../../db/schema";

export interface PruneOptions {
  retentionHours: number;
  /** Rows per DELETE: each is its own short transaction, so no lock is held longer than one batch. */
  batchSize?: number;
  /** Batches per run; what is left waits for the next run (every 5 minutes). */
  maxBatches?: number;
  /** Stands in for the database's now() (tests); the cutoff is measured from it. */
  now?: Date;
}

export interface PruneReport {
  /** Samples strictly older than this were deleted (ISO, UTC). */
  cutoff: string;
  deleted: number;
  batches: number;
  /** False when the run stopped at maxBatches with old samples possibly left. */
  done: boolean;
}

/**
 * Deletes resource samples older than the retention, oldest first, in batches
 * taken from the `at` index. A batch locks only the rows it deletes (and skips
 * rows another pruner holds), so heartbeats keep inserting and two pruners
 * share the work instead of waiting on each other; the run stops at the first
 * short batch, which proves no unclaimed old sample was left. The cutoff is
 * fixed once per run, from the database clock that stamped the samples.
 */
export async function pruneResourceSamples(db: Database, options: PruneOptions): Promise<PruneReport> {
  const { retentionHours, batchSize = 5000, maxBatches = 200 } = options;
  const now = options.now?.toISOString() ?? null;
  const [window] = await db.execute<{ cutoff: string; cutoff_iso: string }>(sql`
    select c::text as cutoff, to_char(c at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cutoff_iso
    from (select coalesce(${now}::timestamptz, now()) - make_interval(hours => ${retentionHours}) as c) t`);
  const cutoff = window!.cutoff;
  let deleted = 0;
  for (let batch = 1; batch <= maxBatches; batch++) {
    // ctid = any(array(...)): a TID scan of exactly the locked rows, no second pass over an index.
    const [row] = await db.execute<{ n: number }>(sql`
      with gone as (
        delete from ${resourceSamples} where ctid = any(array(
          select ctid from ${resourceSamples} where ${resourceSamples.at} < ${cutoff}::timestamptz
          order by ${resourceSamples.at} limit ${batchSize} for update skip locked))
        returning 1)
      select count(*)::int as n from gone`);
    deleted += row!.n;
    if (row!.n < batchSize) return { cutoff: window!.cutoff_iso, deleted, batches: batch, done: true };
  }
  return { cutoff: window!.cutoff_iso, deleted, batches: maxBatches, done: false };
}

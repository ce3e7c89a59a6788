import { PgTransaction } from "drizzle-orm/pg-core";
import type { Executor } from "../../db/client";
import { withTransaction } from "../context";
import type { JobQueue } from "../jobs/queue";
import { billingTickDuration, centsDebited, runsBilled } from "../platform/metrics";
import { billRuns } from "./bill";
import { settleRun, unsettledRunIds } from "./settle";

export interface TickReport {
  runsBilled: number;
  debits: number;
  debitedCents: number;
  batches: number;
  /** Ended runs the tick settled because their settlement job had not. */
  settled: number;
}

export interface TickOptions {
  /** Runs per transaction: a tick killed midway loses at most its uncommitted batches, which the next tick bills. */
  batchSize?: number;
  /**
   * Batches billed at once, each on its own connection (a transaction joined by the caller: one). The lanes claim
   * with SKIP LOCKED, as two tickers do, so they never bill a run twice; on two cores, two lanes bill 10,000 runs
   * in about half the time of one (tests/bench/metering-results.md).
   */
  lanes?: number;
  /** Ended, unsettled runs settled per tick. */
  settleLimit?: number;
  /** The queue refund alerts of the runs it settles are raised on (the workers pass theirs). */
  alerts?: JobQueue;
}

/**
 * The billing tick: bills every live run that has a new whole second, one transaction per batch of runs in id
 * order, in a few lanes at once, then settles ended runs whose settlement was lost. Runs another lane or
 * ticker holds are skipped, not waited for: the one holding them bills them.
 */
export async function billingTick(db: Executor, options: TickOptions = {}): Promise<TickReport> {
  const batchSize = options.batchSize ?? 2000;
  const lanes = db instanceof PgTransaction ? 1 : (options.lanes ?? 2);
  const report: TickReport = { runsBilled: 0, debits: 0, debitedCents: 0, batches: 0, settled: 0 };
  const startedAt = performance.now();
  const lane = async () => {
    let afterId = "";
    for (;;) {
      const batch = await withTransaction(db, (tx) => billRuns(tx, { live: true, afterId, limit: batchSize }));
      report.batches += 1;
      report.runsBilled += batch.claimed;
      report.debits += batch.debits;
      report.debitedCents += batch.debitedCents;
      // Counted as each batch commits: a tick killed midway has billed (and counted) exactly its committed batches.
      runsBilled.inc(batch.claimed);
      centsDebited.inc(batch.debitedCents);
      // Fewer than a batch: the claim reached the last live run (those it skipped, another lane holds).
      if (batch.claimed < batchSize || !batch.lastId) return;
      afterId = batch.lastId;
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  for (const runId of await unsettledRunIds(db, options.settleLimit ?? 100)) {
    if ((await settleRun(db, runId, options.alerts)).settled) report.settled += 1;
  }
  billingTickDuration.observe((performance.now() - startedAt) / 1000);
  return report;
}

import type { Executor } from "../../db/client";
import { withTransaction } from "../context";
import type { JobQueue } from "../jobs/queue";
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
  /** Runs per transaction: a tick killed midway loses at most one uncommitted batch, which the next tick bills. */
  batchSize?: number;
  /** Ended, unsettled runs settled per tick. */
  settleLimit?: number;
  /** The queue refund alerts of the runs it settles are raised on (the workers pass theirs). */
  alerts?: JobQueue;
}

/**
 * The billing tick: bills every live run that has a new whole second, one
 * transaction per batch of runs in id order, then settles ended runs whose
 * settlement was lost. Runs another ticker holds are skipped, not waited for.
 */
export async function billingTick(db: Executor, options: TickOptions = {}): Promise<TickReport> {
  const batchSize = options.batchSize ?? 1000;
  const report: TickReport = { runsBilled: 0, debits: 0, debitedCents: 0, batches: 0, settled: 0 };
  let afterId = "";
  for (;;) {
    const batch = await withTransaction(db, (tx) => billRuns(tx, { live: true, afterId, limit: batchSize }));
    report.batches += 1;
    report.runsBilled += batch.claimed;
    report.debits += batch.debits;
    report.debitedCents += batch.debitedCents;
    if (batch.claimed < batchSize || !batch.lastId) break;
    afterId = batch.lastId;
  }
  for (const runId of await unsettledRunIds(db, options.settleLimit ?? 100)) {
    if ((await settleRun(db, runId, options.alerts)).settled) report.settled += 1;
  }
  return report;
}

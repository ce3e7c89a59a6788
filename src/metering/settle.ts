import { sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { withTransaction } from "../context";
import { displayName } from "../instances/queries";
import type { JobQueue } from "../jobs/queue";
import { notify } from "../notifications/notify";
import { centsDebited, centsRefunded } from "../platform/metrics";
import { refundAlert } from "../spend/alerts";
import { postInstanceEntry } from "../usage/rollup";
import { billRuns } from "./bill";
import { refundable } from "./billable";

export interface Settlement {
  runId: string;
  /** False when the run is live, unknown or already settled: nothing was written. */
  settled: boolean;
  billedSeconds: number;
  billedCents: number;
  refundedCents: number;
  /** What settling debited (the run's seconds since its last tick). */
  debitedCents: number;
}

/**
 * Settles an ended run: bills it up to its end through the tick's own
 * statement, refunds it in full when it failed early (once: the reference
 * `refund:<run>` is unique and `settled_at` is written in the same
 * transaction), and marks it settled. Safe to run any number of times, and
 * concurrently: the run's row lock orders a settlement job and a tick's sweep. With `alerts` (the workers
 * always pass their queue), a refund raises its alert in the same transaction.
 */
export async function settleRun(db: Executor, runId: string, alerts?: JobQueue): Promise<Settlement> {
  const settlement = await withTransaction(db, async (tx): Promise<Settlement> => {
    const [locked] = await tx.execute<{ ended: boolean; settled: boolean }>(sql`
      select ended_at is not null as ended, settled_at is not null as settled from instance_runs where id = ${runId} for update`);
    if (!locked?.ended || locked.settled) return { runId, settled: false, billedSeconds: 0, billedCents: 0, refundedCents: 0, debitedCents: 0 };

    const { debitedCents } = await billRuns(tx, { runId });
    const [run] = await tx.execute<{ account_id: string; instance_id: string; ended_because: string | null; billed_seconds: number; billed_cents: string }>(sql`
      update instance_runs r set settled_at = now() from instances i
      where r.id = ${runId} and i.id = r.instance_id
      returning i.account_id, r.instance_id, r.ended_because, r.billed_seconds, r.billed_cents::text`);
    const billedCents = Number(run!.billed_cents);
    // billRuns just brought billed_seconds to the run's billable seconds, so they are the same number here.
    const refund = refundable(run!.ended_because, run!.billed_seconds) && billedCents > 0 ? billedCents : 0;
    if (refund > 0) {
      // With its usage rollup (refunds are their own series), in this transaction, in the hour of the entry.
      await postInstanceEntry(tx, {
        accountId: run!.account_id,
        kind: "refund",
        amountCents: refund,
        reference: `refund:${runId}`,
        instanceId: run!.instance_id,
        description: `Refund of run ${runId}: it ended (${run!.ended_because}) after ${run!.billed_seconds} s, within the first 60 s`,
      });
      if (alerts) {
        const [instance] = await tx.execute<{ name: string | null }>(sql`select name from instances where id = ${run!.instance_id}`);
        const alert = refundAlert({
          runId,
          instance: { id: run!.instance_id, name: displayName({ id: run!.instance_id, name: instance?.name ?? null }) },
          refundedCents: refund,
          endedBecause: run!.ended_because!,
          seconds: run!.billed_seconds,
        });
        await notify(tx, alerts, run!.account_id, alert);
      }
    }
    return { runId, settled: true, billedSeconds: run!.billed_seconds, billedCents, refundedCents: refund, debitedCents };
  });
  // Once committed (inside a caller's transaction: once it is handed back, which is as close as this can see).
  centsDebited.inc(settlement.debitedCents);
  centsRefunded.inc(settlement.refundedCents);
  return settlement;
}

/**
 * Ended runs whose settlement never ran (a job lost with its worker): the
 * tick settles them, so no ended run stays unbilled or unrefunded. One that a
 * settlement job holds right now is waited for, then found settled.
 */
export async function unsettledRunIds(db: Executor, limit: number): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(sql`
    select id from instance_runs where ended_at is not null and settled_at is null
    order by ended_at limit ${limit}`);
  return rows.map((row) => row.id);
}

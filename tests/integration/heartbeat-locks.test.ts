/**
 * Heartbeat batches never wait for a run another transaction holds (a bulk stop, the budget watcher, a tick's
 * batch): they skip it and try again at the next flush, with the beat's own receive time. A batch that waited
 * while holding other runs deadlocked with a stop that held those and wanted one of the batch's.
 */
import { describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import type { Transaction } from "../../db/client";
import { instanceRuns } from "../../db/schema";
import { HeartbeatBatcher } from "../../src/instances/heartbeats";
import { recordHeartbeats } from "../../src/instances/runs";
import { freshDatabase } from "../support/db";
import { meteredAccount, meteredRun } from "../support/metering";

const database = await freshDatabase();
const { db } = database;

/** Runs `hold` inside a transaction that locks `runId` first, and keeps it until `hold` resolves. */
async function whileHeld<T>(runId: string, hold: (tx: Transaction) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select id from instance_runs where id = ${runId} for update`);
    return hold(tx);
  });
}

async function heartbeatOf(runId: string) {
  const [row] = await db.select({ at: instanceRuns.lastHeartbeatAt }).from(instanceRuns).where(eq(instanceRuns.id, runId));
  return row!.at!;
}

describe("heartbeats and held runs", () => {
  test("a held run is skipped (busy, not ended) and the others move; no deadlock with a holder that then takes one of them", async () => {
    const accountId = await meteredAccount(db);
    const a = await meteredRun(db, accountId, 100, 60);
    const b = await meteredRun(db, accountId, 100, 60);
    const before = await heartbeatOf(b.runId);
    const outcome = await whileHeld(a.runId, async (holder) => {
      const result = await recordHeartbeats(db, [
        { run_id: b.runId, age_ms: 0 },
        { run_id: a.runId, age_ms: 0 },
      ]);
      // The holder now takes the batch's other run, as a bulk stop takes its next: the batch did not wait for the
      // holder while keeping this one, so there is nothing to deadlock with.
      await holder.execute(sql`select id from instance_runs where id = ${b.runId} for update`);
      return result;
    });
    expect(outcome).toEqual({ ended: [], busy: [a.runId] });
    expect((await heartbeatOf(b.runId)).getTime()).toBeGreaterThan(before.getTime());
  });

  test("an ended run is reported ended, not busy", async () => {
    const accountId = await meteredAccount(db);
    const { runId } = await meteredRun(db, accountId, 100, 60);
    await db.update(instanceRuns).set({ endedAt: sql`now()`, endedBecause: "stopped" }).where(eq(instanceRuns.id, runId));
    expect(await recordHeartbeats(db, [{ run_id: runId, age_ms: 0 }])).toEqual({ ended: [runId], busy: [] });
  });

  test("the batcher keeps a held run's beat for the next flush, with the time it was received", async () => {
    const accountId = await meteredAccount(db);
    const { runId, instanceId } = await meteredRun(db, accountId, 100, 60);
    // Its last heartbeat a minute back, at running_at: the new beat, received now, is unmistakably later.
    await db.execute(sql`update instance_runs set last_heartbeat_at = running_at where id = ${runId}`);
    const batcher = new HeartbeatBatcher(db);
    batcher.recordBeat(runId, instanceId, new Date().toISOString(), null);
    const ended: string[][] = [];
    batcher.onEnded((runIds) => ended.push(runIds));
    const before = await heartbeatOf(runId);
    await whileHeld(runId, () => batcher.flush());
    // Held by another transaction: the flush left the run's heartbeat as it was.
    expect((await heartbeatOf(runId)).getTime()).toBe(before.getTime());

    // The next flush comes a while later: the beat lands at its receive time, well before that flush.
    await Bun.sleep(300);
    const [later] = await db.execute<{ at: Date }>(sql`select clock_timestamp() as at`);
    await batcher.flush();
    const landed = await heartbeatOf(runId);
    expect(landed.getTime()).toBeGreaterThan(before.getTime());
    expect(landed.getTime()).toBeLessThan(new Date(later!.at).getTime() - 200);
    expect(ended).toEqual([]);
  });
});

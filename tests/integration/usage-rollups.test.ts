import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { createApp } from "../../server/app";
import { settleRun } from "../../src/metering/settle";
import { billingTick } from "../../src/metering/tick";
import { findUsageDrift } from "../../src/usage/drift";
import { freshDatabase } from "../support/db";
import { insertInstanceRow, SCHEDULER_TOKEN, testConfig } from "../support/factories";
import { meteredAccount, meteredRun } from "../support/metering";
import { rebuildUsageRollups } from "../support/usage";

const database = await freshDatabase();
const { db } = database;

const heartbeatAt = (runId: string, seconds: number) =>
  db.execute(sql`update instance_runs set last_heartbeat_at = running_at + make_interval(secs => ${seconds}) where id = ${runId}`);

const every = sql`
  select 'h' as t, instance_id as k, hour as at, cost_cents, billable_seconds, refunded_cents from instance_usage_hourly
  union all select 'd', instance_id, day, cost_cents, billable_seconds, refunded_cents from instance_usage_daily
  union all select 'a', account_id, hour, cost_cents, billable_seconds, refunded_cents from account_usage_hourly`;

/**
 * The rollups as the ledger fixes them: money per row (by the entries' hour), seconds per instance and account.
 * Seconds billed after a run's last new cent are dated by the tick that billed them; the backfill, which has
 * only the ledger and the run, dates them at the end of the run's billable time, which may be another hour.
 */
async function rollups() {
  const money = await db.execute(
    sql`select t, k, at, cost_cents, refunded_cents from (${every}) r where cost_cents <> 0 or refunded_cents <> 0 order by 1, 2, 3`,
  );
  const seconds = await db.execute(sql`select t, k, sum(billable_seconds)::text as seconds from (${every}) r group by 1, 2 order by 1, 2`);
  return { money: money.map((row) => ({ ...row })), seconds: seconds.map((row) => ({ ...row })) };
}

async function hoursOf(instanceId: string) {
  const rows = await db.execute(sql`select cost_cents, billable_seconds, refunded_cents from instance_usage_hourly where instance_id = ${instanceId}`);
  return rows.map((row) => ({ ...row }));
}

describe("rollups written by metering", () => {
  test("ticks, a settlement and a refund write what the migration's backfill rebuilds from the ledger alone", async () => {
    const accountId = await meteredAccount(db);
    // 1 c/h: seconds without a new cent, which the tick still adds.
    // Running since 5 minutes ago, so the heartbeats set below are in the past, as real ones are.
    const slow = await meteredRun(db, accountId, 1, 300);
    const busy = await meteredRun(db, accountId, 3600, 300);
    const early = await meteredRun(db, accountId, 7200, 300);
    for (const seconds of [10, 25, 61, 200]) {
      await heartbeatAt(slow.runId, seconds);
      await heartbeatAt(busy.runId, seconds);
      if (seconds < 60) await heartbeatAt(early.runId, seconds);
      await billingTick(db);
    }
    await db.execute(sql`update instance_runs set ended_at = running_at + interval '30 seconds', ended_because = 'failed' where id = ${early.runId}`);
    expect((await settleRun(db, early.runId)).refundedCents).toBe(50);
    await billingTick(db);

    // One hour each, unless the test ran across the top of an hour.
    const slowHours = await hoursOf(slow.instanceId);
    expect(slowHours.reduce((sum, row) => sum + Number(row.billable_seconds), 0)).toBe(200);
    expect(slowHours.every((row) => row.cost_cents === "0")).toBe(true);
    const earlyHours = await hoursOf(early.instanceId);
    expect(earlyHours.reduce((sum, row) => sum + Number(row.cost_cents) - Number(row.refunded_cents), 0)).toBe(0);
    expect(earlyHours.reduce((sum, row) => sum + Number(row.refunded_cents), 0)).toBe(50);
    expect(await findUsageDrift(db)).toEqual([]);

    const written = await rollups();

    await rebuildUsageRollups(database.owner());
    expect(await rollups()).toEqual(written);
  });

  test("the scheduler's POST /billing/debit of an instance counts in its usage; one naming no instance, or another account's, does not", async () => {
    const app = createApp({ db, config: testConfig });
    const debit = (body: object) =>
      app.handle(
        new Request("http://localhost:3000/billing/debit", {
          method: "POST",
          headers: { authorization: `Bearer ${SCHEDULER_TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
      );
    const accountId = await meteredAccount(db);
    const other = await meteredAccount(db);
    const mine = await insertInstanceRow(db, { accountId });
    const theirs = await insertInstanceRow(db, { accountId: other });
    for (const body of [
      { account_id: accountId, amount_cents: 700, reference: "sched:1", instance_id: mine },
      { account_id: accountId, amount_cents: 700, reference: "sched:1", instance_id: mine }, // a replay
      { account_id: accountId, amount_cents: 300, reference: "sched:2" },
      { account_id: accountId, amount_cents: 200, reference: "sched:3", instance_id: theirs },
    ]) {
      expect((await debit(body)).status).toBe(200);
    }
    const [usage] = await db.execute<{ cost: string }>(
      sql`select coalesce(sum(cost_cents), 0)::text as cost from instance_usage_hourly where account_id = ${accountId}`,
    );
    expect(usage!.cost).toBe("700");
    const [foreign] = await db.execute<{ n: number }>(sql`select count(*)::integer as n from instance_usage_hourly where instance_id = ${theirs}`);
    expect(foreign!.n).toBe(0);
    expect(await findUsageDrift(db)).toEqual([]);
  });
});

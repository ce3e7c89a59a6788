import { describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { instanceRuns, instances } from "../../db/schema";
import { postEntry } from "../../src/billing/ledger";
import { newId } from "../../src/ids";
import { chargeCents } from "../../src/metering/billable";
import { chargeEur } from "../../src/metering/metered";
import { settleRun } from "../../src/metering/settle";
import { billingTick } from "../../src/metering/tick";
import { freshDatabase } from "../support/db";
import { expectTrpcError } from "../support/errors";
import { insertInstanceRow, newApiKey, newUser, type TestUser, trpc } from "../support/factories";

const { db } = await freshDatabase();

type EndReason = NonNullable<(typeof instanceRuns.$inferSelect)["endedBecause"]>;

/** A user whose account holds €1,000, and their tRPC caller. */
async function funded() {
  const user = await newUser(db);
  await postEntry(db, { accountId: user.accountId, kind: "topup", amountCents: 100_000, reference: `cs_${user.accountId}` });
  return { user, api: await trpc(db, user.sessionToken) };
}

/** A running instance of the user's account with no run yet: runs are added by `addRun`, as metering.test.ts seeds them. */
async function newInstance(user: TestUser, rate: number): Promise<string> {
  const instanceId = newId("instance");
  await insertInstanceRow(db, {
    id: instanceId,
    accountId: user.accountId,
    rateCentsPerHour: rate,
  });
  return instanceId;
}

/** Run `number` of the instance at `rate` c/h, running since now, its last heartbeat `aliveSeconds` after running_at. */
async function addRun(instanceId: string, number: number, rate: number, aliveSeconds: number): Promise<string> {
  const runId = newId("run");
  await db.insert(instanceRuns).values({
    id: runId,
    instanceId,
    number,
    rateCentsPerHour: rate,
    runningAt: sql`now()`,
    lastHeartbeatAt: sql`now() + make_interval(secs => ${aliveSeconds})`,
  });
  await db.update(instances).set({ currentRunId: runId }).where(eq(instances.id, instanceId));
  return runId;
}

/** Ends the run `seconds` after running_at, as `endRun` stamps it; settlement is called by hand. */
const endAt = (runId: string, seconds: number, because: EndReason) =>
  db.execute(sql`update instance_runs set ended_at = running_at + make_interval(secs => ${seconds}), ended_because = ${because} where id = ${runId}`);

/** What the ledger holds for the run, read independently of the read model. */
async function ledgerOf(runId: string) {
  const [row] = await db.execute<{ debited: string; refunded: string }>(sql`
    select coalesce(-sum(amount_cents) filter (where kind = 'debit' and reference like ${`debit:${runId}:%`}), 0)::text as debited,
           coalesce(sum(amount_cents) filter (where kind = 'refund' and reference = ${`refund:${runId}`}), 0)::text as refunded
    from ledger_entries`);
  return { debited: Number(row!.debited), refunded: Number(row!.refunded) };
}

describe("instances.metered", () => {
  test("a settled run and a live one: seconds, rate and cents match floor(seconds × rate / 3600) and the ledger, per run and in total", async () => {
    const { user, api } = await funded();
    const instanceId = await newInstance(user, 280);
    const first = await addRun(instanceId, 1, 280, 4827.6);
    await billingTick(db);
    await endAt(first, 4900, "stopped");
    await settleRun(db, first);
    const second = await addRun(instanceId, 2, 190, 1234.4);
    await billingTick(db);

    const metered = await api.instances.metered({ id: instanceId });
    expect(metered).toMatchObject({
      instance_id: instanceId,
      seconds_billed: 1234,
      rate_per_hour: 1.9,
      rate_cents_per_hour: 190,
      current_charge: 0.651,
      debited_cents: chargeCents(1234, 190),
      refunded_cents: 0,
      total: { seconds_billed: 4827 + 1234, debited_cents: 375 + chargeCents(1234, 190), refunded_cents: 0 },
    });
    expect(metered.runs.map((run) => [run.run_id, run.number, run.settled, run.ended_because])).toEqual([
      [second, 2, false, null],
      [first, 1, true, "stopped"],
    ]);
    // The Pods document's example, checked against the ledger: 4,827 s at €2.80/h.
    const settled = metered.runs[1]!;
    expect(settled).toMatchObject({ seconds_billed: 4827, rate_cents_per_hour: 280, debited_cents: 375, refunded_cents: 0 });
    expect(chargeEur(settled.seconds_billed, 280)).toBe(3.754);
    for (const run of metered.runs) {
      expect(run.debited_cents).toBe(chargeCents(run.seconds_billed, run.rate_cents_per_hour!));
      expect(await ledgerOf(run.run_id)).toEqual({ debited: run.debited_cents, refunded: run.refunded_cents });
    }
  });

  test("an early failure shows the refund beside the debit", async () => {
    const { user, api } = await funded();
    const instanceId = await newInstance(user, 3600);
    const runId = await addRun(instanceId, 1, 3600, 30.2);
    await billingTick(db);
    await endAt(runId, 31, "failed");
    await settleRun(db, runId);

    const metered = await api.instances.metered({ id: instanceId });
    expect(metered).toMatchObject({ seconds_billed: 30, current_charge: 0.3, debited_cents: 30, refunded_cents: 30 });
    expect(metered.runs[0]).toMatchObject({ run_id: runId, ended_because: "failed", debited_cents: 30, refunded_cents: 30, settled: true });
    expect(metered.total).toEqual({ seconds_billed: 30, debited_cents: 30, refunded_cents: 30 });
    expect(await ledgerOf(runId)).toEqual({ debited: 30, refunded: 30 });
  });

  test("an instance never placed has no runs and nothing billed", async () => {
    const { user, api } = await funded();
    const instanceId = await newInstance(user, 79);
    expect(await api.instances.metered({ id: instanceId })).toEqual({
      instance_id: instanceId,
      seconds_billed: 0,
      rate_per_hour: 0.79,
      rate_cents_per_hour: 79,
      current_charge: 0,
      debited_cents: 0,
      refunded_cents: 0,
      runs: [],
      total: { seconds_billed: 0, debited_cents: 0, refunded_cents: 0 },
    });
  });
});

describe("instances.metered security", () => {
  test("another account's instance answers NOT_FOUND, as a missing one does", async () => {
    const { user } = await funded();
    const instanceId = await newInstance(user, 280);
    await addRun(instanceId, 1, 280, 60);
    await billingTick(db);
    const stranger = await newUser(db);
    const error = await expectTrpcError((await trpc(db, stranger.sessionToken)).instances.metered({ id: instanceId }), "NOT_FOUND");
    expect(error.message).toBe(`Instance '${instanceId}' was not found.`);
    await expectTrpcError((await trpc(db, stranger.sessionToken)).instances.metered({ id: "inst_missing" }), "NOT_FOUND");
  });

  test("an inference key is refused naming 'read'; a read key reads it", async () => {
    const { user } = await funded();
    const instanceId = await newInstance(user, 280);
    const inference = await newApiKey(db, user, { scope: "inference" });
    const error = await expectTrpcError((await trpc(db, inference.secret)).instances.metered({ id: instanceId }), "FORBIDDEN");
    expect(error.message).toBe("This API key has scope 'inference'; instances.metered needs 'read' or 'full'.");
    const read = await newApiKey(db, user, { scope: "read" });
    expect((await (await trpc(db, read.secret)).instances.metered({ id: instanceId })).instance_id).toBe(instanceId);
  });
});

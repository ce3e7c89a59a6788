import { afterAll, describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import fc from "fast-check";
import { accountBalances, instanceRuns, ledgerEntries } from "../../db/schema";
import { findBalanceDrift, postEntry } from "../../src/billing/ledger";
import { createQueue, enqueue, jobQueue } from "../../src/jobs/queue";
import { billRuns } from "../../src/metering/bill";
import { billableSeconds, chargeCents, refundable } from "../../src/metering/billable";
import { settleRun } from "../../src/metering/settle";
import { billingTick } from "../../src/metering/tick";
import { findUsageDrift } from "../../src/usage/drift";
import { registerWorkers } from "../../workers/registry";
import { freshDatabase } from "../support/db";
import { testConfig } from "../support/factories";
import { debitedFor as debitedOf, meteredAccount, meteredRun } from "../support/metering";

const database = await freshDatabase();
const { db } = database;

type EndReason = NonNullable<(typeof instanceRuns.$inferSelect)["endedBecause"]>;

const newAccount = (balance?: number) => meteredAccount(db, balance);
const newRun = (accountId: string, rate: number, ranSeconds: number | null) => meteredRun(db, accountId, rate, ranSeconds);
const debitedFor = (runId: string) => debitedOf(db, runId);

/** The last heartbeat `seconds` after running_at. */
const heartbeatAt = (runId: string, seconds: number) =>
  db.execute(sql`update instance_runs set last_heartbeat_at = running_at + make_interval(secs => ${seconds}) where id = ${runId}`);

/** Ends the run `seconds` after running_at, as `src/instances/runs.ts` does (the settlement job is called by hand). */
const endAt = (runId: string, seconds: number, because: EndReason) =>
  db.execute(sql`update instance_runs set ended_at = running_at + make_interval(secs => ${seconds}), ended_because = ${because} where id = ${runId}`);

async function entriesOf(accountId: string) {
  return db.select().from(ledgerEntries).where(eq(ledgerEntries.accountId, accountId));
}

async function balanceRow(accountId: string) {
  const [row] = await db.select().from(accountBalances).where(eq(accountBalances.accountId, accountId));
  return row!;
}

async function runRow(runId: string) {
  const [row] = await db.select().from(instanceRuns).where(eq(instanceRuns.id, runId));
  return row!;
}

describe("billing tick", () => {
  test("a run at 280 c/h running 4,827 s is debited 375 cents in one tick, with the instance and the arithmetic on the entry", async () => {
    const accountId = await newAccount();
    const { runId, instanceId } = await newRun(accountId, 280, 0);
    await heartbeatAt(runId, 4827.6);
    await billingTick(db);
    const debits = (await entriesOf(accountId)).filter((e) => e.kind === "debit");
    expect(debits).toHaveLength(1);
    expect(debits[0]).toMatchObject({ amountCents: -375, reference: `debit:${runId}:4827`, instanceId });
    expect(debits[0]!.description).toContain("4827 s at 2.80 €/h");
    expect(await runRow(runId)).toMatchObject({ billedSeconds: 4827, billedCents: 375 });
    expect((await balanceRow(accountId)).balanceCents).toBe(100_000 - 375);
  });

  test("ticks at random moments of the same run add up to the same 375 cents (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 0, max: 4827 }), { maxLength: 12 }), async (cuts) => {
        const accountId = await newAccount();
        const { runId } = await newRun(accountId, 280, 0);
        for (const seconds of [...cuts.sort((a, b) => a - b), 4827]) {
          await heartbeatAt(runId, seconds + 0.25);
          await billingTick(db);
          expect(await debitedFor(runId)).toBe(chargeCents(seconds, 280));
        }
        expect(await debitedFor(runId)).toBe(375);
        expect((await balanceRow(accountId)).balanceCents).toBe(100_000 - 375);
      }),
      { numRuns: 15 },
    );
  });

  test("duplicated and concurrent ticks bill once", async () => {
    const accountIds = await Promise.all(Array.from({ length: 5 }, () => newAccount()));
    const runs = await Promise.all(Array.from({ length: 30 }, (_, i) => newRun(accountIds[i % 5]!, 100 + i, 600 + i)));
    const reports = await Promise.all(Array.from({ length: 6 }, () => billingTick(db, { batchSize: 7 })));
    expect(reports.reduce((sum, r) => sum + r.runsBilled, 0)).toBe(30);
    await billingTick(db);
    for (const [i, { runId }] of runs.entries()) {
      const run = await runRow(runId);
      expect(run.billedCents).toBe(chargeCents(run.billedSeconds, 100 + i));
      expect(await debitedFor(runId)).toBe(run.billedCents);
      expect(run.billedSeconds).toBeGreaterThanOrEqual(600 + i);
    }
    const debits = await db.select().from(ledgerEntries).where(sql`${ledgerEntries.accountId} in ${accountIds} and ${ledgerEntries.kind} = 'debit'`);
    expect(debits).toHaveLength(30);
    expect(await findBalanceDrift(db)).toEqual([]);
  });

  test("a run whose heartbeats stopped is billed to its last heartbeat, however late the tick", async () => {
    const accountId = await newAccount();
    const { runId } = await newRun(accountId, 3600, 500);
    await heartbeatAt(runId, 120);
    await billingTick(db);
    await billingTick(db);
    expect(await runRow(runId)).toMatchObject({ billedSeconds: 120, billedCents: 120 });
  });

  test("a run that never reached running bills nothing, ticked or settled", async () => {
    const accountId = await newAccount();
    const { runId } = await newRun(accountId, 3600, null);
    await billingTick(db);
    await db.execute(sql`update instance_runs set ended_at = now(), ended_because = 'placement_failed' where id = ${runId}`);
    expect(await settleRun(db, runId)).toMatchObject({ settled: true, billedCents: 0, refundedCents: 0 });
    expect(await entriesOf(accountId)).toHaveLength(1); // the top-up
  });

  test("a tick that takes the balance below zero starts grace, as postEntry does", async () => {
    const accountId = await newAccount(100);
    await newRun(accountId, 3600, 200);
    await billingTick(db);
    const balance = await balanceRow(accountId);
    expect(balance.balanceCents).toBe(-100);
    expect(balance.graceStartedAt).not.toBeNull();
    await postEntry(db, { accountId, kind: "topup", amountCents: 500, reference: `cs_more_${accountId}` });
    expect((await balanceRow(accountId)).graceStartedAt).toBeNull();
  });

  test("a tick whose transaction dies writes nothing, and the next bills it all", async () => {
    const accountId = await newAccount();
    const { runId } = await newRun(accountId, 3600, 90);
    await expect(
      db.transaction(async (tx) => {
        await billRuns(tx, { live: true, afterId: "", limit: 1000 });
        throw new Error("killed mid-tick");
      }),
    ).rejects.toThrow("killed mid-tick");
    expect(await runRow(runId)).toMatchObject({ billedSeconds: 0, billedCents: 0 });
    expect(await debitedFor(runId)).toBe(0);
    await billingTick(db);
    expect(await debitedFor(runId)).toBe(90);
  });
});

describe("settlement", () => {
  test("a stopped run is billed to its end (not to a later heartbeat), once however often it is settled", async () => {
    const accountId = await newAccount();
    const { runId } = await newRun(accountId, 3600, 0);
    await heartbeatAt(runId, 200);
    await billingTick(db);
    await endAt(runId, 250.9, "stopped");
    await heartbeatAt(runId, 300); // a beat already in flight when the stop was requested
    const results = await Promise.all([settleRun(db, runId), settleRun(db, runId), settleRun(db, runId)]);
    expect(results.filter((r) => r.settled)).toHaveLength(1);
    expect(await settleRun(db, runId)).toMatchObject({ settled: false });
    await billingTick(db);
    expect(await runRow(runId)).toMatchObject({ billedSeconds: 250, billedCents: 250 });
    expect(await debitedFor(runId)).toBe(250);
  });

  test("a stopped run's last seconds are settled without a tick", async () => {
    const accountId = await newAccount();
    const { runId } = await newRun(accountId, 3600, 0);
    await heartbeatAt(runId, 100);
    await billingTick(db);
    await heartbeatAt(runId, 130);
    await endAt(runId, 127.4, "stopped");
    expect(await settleRun(db, runId)).toMatchObject({ settled: true, billedSeconds: 127, billedCents: 127, refundedCents: 0 });
    await billingTick(db);
    expect(await debitedFor(runId)).toBe(127);
    expect((await runRow(runId)).settledAt).not.toBeNull();
  });

  test("an early failure (30 s) is refunded in full exactly once", async () => {
    const accountId = await newAccount();
    const { runId, instanceId } = await newRun(accountId, 3600, 0);
    await heartbeatAt(runId, 20);
    await billingTick(db);
    await heartbeatAt(runId, 30);
    await endAt(runId, 30, "failed");
    await Promise.all([settleRun(db, runId), settleRun(db, runId)]);
    await settleRun(db, runId);
    const entries = await entriesOf(accountId);
    const refunds = entries.filter((e) => e.kind === "refund");
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ amountCents: 30, reference: `refund:${runId}`, instanceId });
    expect(await debitedFor(runId)).toBe(30);
    expect((await balanceRow(accountId)).balanceCents).toBe(100_000);
  });

  test("a late failure (90 s) is billed to its end and not refunded; nor is an early stop", async () => {
    const accountId = await newAccount();
    const late = await newRun(accountId, 3600, 0);
    await heartbeatAt(late.runId, 90);
    await endAt(late.runId, 90, "failed");
    const stopped = await newRun(accountId, 3600, 0);
    await heartbeatAt(stopped.runId, 30);
    await endAt(stopped.runId, 30, "stopped");
    expect(await settleRun(db, late.runId)).toMatchObject({ billedCents: 90, refundedCents: 0 });
    expect(await settleRun(db, stopped.runId)).toMatchObject({ billedCents: 30, refundedCents: 0 });
    expect((await entriesOf(accountId)).filter((e) => e.kind === "refund")).toEqual([]);
    expect((await balanceRow(accountId)).balanceCents).toBe(100_000 - 120);
  });

  test("an ended run whose settlement job was lost is settled (and refunded) by the next tick", async () => {
    const accountId = await newAccount();
    const { runId } = await newRun(accountId, 3600, 0);
    await heartbeatAt(runId, 15);
    await endAt(runId, 15, "lost");
    const report = await billingTick(db);
    expect(report.settled).toBeGreaterThanOrEqual(1);
    expect((await runRow(runId)).settledAt).not.toBeNull();
    expect((await balanceRow(accountId)).balanceCents).toBe(100_000);
    expect((await entriesOf(accountId)).map((e) => e.kind).sort()).toEqual(["debit", "refund", "topup"]);
  });

  test("after all of it, every stored balance is the sum of its entries", async () => {
    expect(await findBalanceDrift(db)).toEqual([]);
  });
});

describe("random timelines (property)", () => {
  type Op =
    | { kind: "start"; rate: number; running: boolean }
    | { kind: "advance"; ms: number; beat: boolean }
    | { kind: "silence"; run: number }
    | { kind: "end"; run: number; because: EndReason }
    | { kind: "tick"; copies: number; batchSize: number }
    | { kind: "killed-tick" }
    | { kind: "settle"; run: number; copies: number };

  const reasons: EndReason[] = ["stopped", "grace", "deleted", "failed", "lost", "reclaimed", "non_bootstrap"];
  const start = fc.record({ kind: fc.constant("start" as const), rate: fc.integer({ min: 1, max: 200_000 }), running: fc.boolean() });
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 1, arbitrary: start },
    // Time passes; live pods beat at its end unless their heartbeats stopped.
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 40_000 }), beat: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("silence" as const), run: fc.nat(5) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("end" as const), run: fc.nat(5), because: fc.constantFrom(...reasons) }) },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant("tick" as const), copies: fc.integer({ min: 1, max: 3 }), batchSize: fc.integer({ min: 1, max: 4 }) }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("killed-tick" as const) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("settle" as const), run: fc.nat(5), copies: fc.integer({ min: 1, max: 3 }) }) },
  );
  const timeline = fc
    .tuple(fc.array(start, { minLength: 1, maxLength: 3 }), fc.array(op, { minLength: 5, maxLength: 30 }))
    .map(([starts, ops]) => [...starts, ...ops]);

  interface ModelRun {
    runId: string;
    instanceId: string;
    rate: number;
    runningAt: Date | null;
    lastHeartbeatAt: Date | null;
    endedAt: Date | null;
    because: EndReason | null;
    /** Its heartbeats stopped (a hung or unreachable pod). */
    silent: boolean;
  }

  async function checkInvariants(accountId: string, runs: ModelRun[], afterTick: boolean) {
    for (const model of runs) {
      const row = await runRow(model.runId);
      const billable = billableSeconds(model);
      // Cumulative and exact: what the run records, what the ledger holds, and the rule agree to the cent.
      expect(row.billedCents).toBe(chargeCents(row.billedSeconds, model.rate));
      expect(await debitedFor(model.runId)).toBe(row.billedCents);
      // Never past its end or its last heartbeat, never before running.
      expect(row.billedSeconds).toBeLessThanOrEqual(billable);
      if (row.settledAt || (afterTick && !model.endedAt)) expect(row.billedSeconds).toBe(billable);
      if (afterTick && model.endedAt) expect(row.settledAt).not.toBeNull();
      const refunds = await db
        .select()
        .from(ledgerEntries)
        .where(eq(ledgerEntries.reference, `refund:${model.runId}`));
      const owed = row.settledAt !== null && refundable(model.because, row.billedSeconds) && row.billedCents > 0;
      expect(refunds.map((r) => r.amountCents)).toEqual(owed ? [row.billedCents] : []);
      // Its instance's usage rollup (one run per instance here) adds up to the same ledger and seconds.
      const [usage] = await db.execute<{ cost: number; refunded: number; seconds: number }>(sql`
        select coalesce(sum(cost_cents), 0)::integer as cost, coalesce(sum(refunded_cents), 0)::integer as refunded,
               coalesce(sum(billable_seconds), 0)::integer as seconds
        from instance_usage_hourly where instance_id = ${model.instanceId}`);
      expect({ ...usage }).toEqual({ cost: row.billedCents, refunded: owed ? row.billedCents : 0, seconds: row.billedSeconds });
    }
    const [sum] = await db.execute<{ total: string }>(
      sql`select coalesce(sum(amount_cents), 0)::text as total from ledger_entries where account_id = ${accountId}`,
    );
    const [balance] = await db.select().from(accountBalances).where(eq(accountBalances.accountId, accountId));
    expect(balance?.balanceCents ?? 0).toBe(Number(sum!.total));
    expect(balance?.graceStartedAt != null).toBe((balance?.balanceCents ?? 0) < 0);
    // The usage rollups: each instance's hours = its ledger debits and refunds dated in them, its days and the
    // account's hours = those hours, its seconds = its runs' billed seconds (src/usage/drift.ts).
    expect(await findUsageDrift(db, accountId)).toEqual([]);
  }

  test("debits, refunds, balances and grace hold after every step", async () => {
    // The timelines' clock starts at the database's now and moves only by "advance" steps.
    const [clockStart] = await db.execute<{ ms: string }>(sql`select floor(extract(epoch from now()) * 1000)::text as ms`);
    const anchor = Number(clockStart!.ms);
    const seen = { debits: 0, refunds: 0, grace: 0 };
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2_000 }), timeline, async (topup, ops) => {
        const accountId = await newAccount(topup);
        const runs: ModelRun[] = [];
        let clock = anchor;
        const at = () => new Date(clock);
        for (const step of ops) {
          const model = "run" in step ? runs[step.run % Math.max(runs.length, 1)] : undefined;
          let afterTick = false;
          switch (step.kind) {
            case "start": {
              const { runId, instanceId } = await newRun(accountId, step.rate, null);
              const runningAt = step.running ? at() : null;
              await db.update(instanceRuns).set({ runningAt, lastHeartbeatAt: null }).where(eq(instanceRuns.id, runId));
              runs.push({ runId, instanceId, rate: step.rate, runningAt, lastHeartbeatAt: null, endedAt: null, because: null, silent: false });
              break;
            }
            case "advance":
              clock += step.ms;
              for (const run of runs.filter((r) => step.beat && r.runningAt && !r.endedAt && !r.silent)) {
                run.lastHeartbeatAt = at();
                await db.update(instanceRuns).set({ lastHeartbeatAt: run.lastHeartbeatAt }).where(eq(instanceRuns.id, run.runId));
              }
              break;
            case "silence":
              if (model) model.silent = true;
              break;
            case "end":
              if (model && !model.endedAt) {
                model.endedAt = at();
                model.because = model.runningAt ? step.because : "placement_failed";
                await db.update(instanceRuns).set({ endedAt: model.endedAt, endedBecause: model.because }).where(eq(instanceRuns.id, model.runId));
              }
              break;
            case "tick":
              await Promise.all(Array.from({ length: step.copies }, () => billingTick(db, { batchSize: step.batchSize })));
              afterTick = true;
              break;
            case "killed-tick":
              await db
                .transaction(async (tx) => {
                  await billRuns(tx, { live: true, afterId: "", limit: 2 });
                  throw new Error("killed");
                })
                .catch(() => null);
              break;
            case "settle":
              if (model) await Promise.all(Array.from({ length: step.copies }, () => settleRun(db, model.runId)));
              break;
          }
          await checkInvariants(accountId, runs, afterTick);
        }
        const kinds = (await entriesOf(accountId)).map((e) => e.kind);
        seen.debits += kinds.filter((k) => k === "debit").length;
        seen.refunds += kinds.filter((k) => k === "refund").length;
        if ((await db.select().from(accountBalances).where(eq(accountBalances.accountId, accountId)))[0]?.graceStartedAt) seen.grace += 1;
      }),
      {
        numRuns: 40,
        examples: [
          // An early failure refunded after a concurrent tick, then a debit that starts grace.
          [
            0,
            [
              { kind: "start", rate: 3600, running: true },
              { kind: "advance", ms: 20_000, beat: true },
              { kind: "tick", copies: 2, batchSize: 1 },
              { kind: "advance", ms: 10_500, beat: true },
              { kind: "end", run: 0, because: "failed" },
              { kind: "settle", run: 0, copies: 2 },
              { kind: "start", rate: 7200, running: true },
              { kind: "advance", ms: 30_000, beat: true },
              { kind: "tick", copies: 1, batchSize: 4 },
            ],
          ],
        ],
      },
    );
    expect(await findBalanceDrift(db)).toEqual([]);
    expect(await findUsageDrift(db)).toEqual([]);
    // The timelines did reach debits, refunds and grace, not only empty steps.
    expect(seen.debits).toBeGreaterThan(0);
    expect(seen.refunds).toBeGreaterThan(0);
    expect(seen.grace).toBeGreaterThan(0);
  }, 120_000);
});

describe("through pg-boss", async () => {
  const boss = createQueue(database.url, { spies: true });
  await boss.start();
  await registerWorkers(boss, { db, config: testConfig, jobs: jobQueue(boss), providers: [] });
  afterAll(() => boss.stop({ graceful: false }));

  test("billing.settle-run settles and refunds; billing.tick bills", async () => {
    const accountId = await newAccount();
    const early = await newRun(accountId, 3600, 0);
    await heartbeatAt(early.runId, 12);
    await endAt(early.runId, 12, "reclaimed");
    const settleId = await enqueue(boss, "billing.settle-run", { runId: early.runId });
    const settled = await boss.getSpy("billing.settle-run").waitForJobWithId(settleId!, "completed");
    expect(settled.output).toMatchObject({ settled: true, billedCents: 12, refundedCents: 12 });

    const live = await newRun(accountId, 3600, 45);
    const tickId = await enqueue(boss, "billing.tick", {});
    await boss.getSpy("billing.tick").waitForJobWithId(tickId!, "completed");
    expect((await runRow(live.runId)).billedCents).toBeGreaterThanOrEqual(45);
  });
});

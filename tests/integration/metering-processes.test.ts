/**
 * Metering across real processes: two worker processes (`workers/main.ts`, as `npm start` runs them)
 * ticking one database, killed with -9 midway and restarted; and ticker processes killed between a
 * tick's writes and its commit. Whatever dies when, every run ends up debited exactly
 * floor(billable seconds × rate / 3600), refunded at most once, and every balance is the sum of its entries;
 * and an instance whose monthly budget is crossed meanwhile is stopped once, with one alert at 100 %.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { and, eq, inArray, sql } from "drizzle-orm";
import { instanceEvents, instanceRuns, ledgerEntries, notifications } from "../../db/schema";
import { findBalanceDrift } from "../../src/billing/ledger";
import { projectRoot } from "../../src/config";
import { recordHeartbeats } from "../../src/instances/runs";
import { billableSecondsSql, chargeCents, refundable } from "../../src/metering/billable";
import { billingTick } from "../../src/metering/tick";
import { setBudget } from "../../src/spend/budgets";
import { type Child, spawnChild } from "../support/child-process";
import { freePort } from "../support/cluster";
import { waitFor } from "../support/compute";
import { freshDatabase } from "../support/db";
import { debitedFor, meteredAccount, meteredRun, refundsOf } from "../support/metering";

const database = await freshDatabase();
const { db } = database;
const dataDir = mkdtempSync(join(tmpdir(), "qdz-metering-processes-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const children = new Set<Child>();
afterAll(() => {
  for (const child of children) child.proc.kill("SIGKILL");
});

async function startWorker(): Promise<Child> {
  const env = {
    ...process.env,
    DATABASE_URL: database.url,
    PORT: String(await freePort()),
    QDZ_DATA_DIR: dataDir,
    BILLING_TICK_SECONDS: "5",
    HEARTBEAT_TIMEOUT_SECONDS: "5",
  };
  const worker = spawnChild([process.execPath, join(projectRoot, "workers/main.ts")], env);
  children.add(worker);
  await worker.line(/^workers started/);
  return worker;
}

function startTicker(mode: "loop" | "hold"): Child {
  const ticker = spawnChild([process.execPath, join(projectRoot, "tests/support/ticker-process.ts"), database.url, mode]);
  children.add(ticker);
  return ticker;
}

async function kill(child: Child) {
  child.proc.kill("SIGKILL");
  await child.proc.exited;
  children.delete(child);
}

/** Every run as metering must leave it once its settlement and a last tick are done. */
async function expectExact(runIds: string[]) {
  // The rule in SQL (microseconds), which metering-billable.test.ts holds equal to `billableSeconds`.
  const runs = await db
    .select({ run: instanceRuns, billable: billableSecondsSql("instance_runs").mapWith(Number) })
    .from(instanceRuns)
    .where(inArray(instanceRuns.id, runIds));
  expect(runs).toHaveLength(runIds.length);
  for (const { run, billable } of runs) {
    expect({ run: run.id, seconds: run.billedSeconds }).toEqual({ run: run.id, seconds: billable });
    expect(run.billedCents).toBe(chargeCents(billable, run.rateCentsPerHour!));
    expect(await debitedFor(db, run.id)).toBe(run.billedCents);
    const owed = run.endedAt !== null && refundable(run.endedBecause, run.billedSeconds) && run.billedCents > 0;
    expect((await refundsOf(db, run.id)).map((r) => r.amountCents)).toEqual(owed ? [run.billedCents] : []);
  }
  expect(await findBalanceDrift(db)).toEqual([]);
}

describe("two worker processes on one database", () => {
  test("ticking every 5 s, both killed -9 midway and restarted: every run billed once to the cent, early losses refunded once, crossed budgets stop once", async () => {
    const accountIds = await Promise.all(Array.from({ length: 6 }, () => meteredAccount(db, 50_000)));
    // Live pods that keep beating, started 5 to 60 minutes ago.
    const live = await Promise.all(Array.from({ length: 120 }, (_, i) => meteredRun(db, accountIds[i % 6]!, 90 + i * 7, 300 + i * 27)));
    // Pods that go silent now: 20 s into running (refunded once the reconciler finds them lost), or 10 minutes in (not).
    const early = await Promise.all(Array.from({ length: 10 }, (_, i) => meteredRun(db, accountIds[i % 6]!, 3600 + i * 100, 20)));
    const late = await Promise.all(Array.from({ length: 10 }, (_, i) => meteredRun(db, accountIds[i % 6]!, 150 + i, 600)));
    const all = [...live, ...early, ...late].map((r) => r.runId);
    // Six live instances with a monthly budget they cross about 8 s in: the workers' spend watchers stop each once.
    const budgeted = live.slice(60, 66);
    for (const [k, run] of budgeted.entries()) {
      const i = 60 + k;
      await setBudget(
        { db, accountId: accountIds[i % 6]!, role: "owner", actor: { kind: "system" } },
        { instanceId: run.instanceId, monthlyCents: chargeCents(300 + i * 27 + 8, 90 + i * 7) },
      );
    }

    let beating = true;
    const heartbeats = (async () => {
      while (beating) {
        await recordHeartbeats(
          db,
          live.map((r) => ({ run_id: r.runId, age_ms: 0 })),
        );
        await Bun.sleep(500);
      }
    })();

    let workers = await Promise.all([startWorker(), startWorker()]);
    const debitCount = async () => (await db.$count(ledgerEntries, eq(ledgerEntries.kind, "debit"))) as number;
    // Two ticks' worth: every live run debited at least twice.
    await waitFor(debitCount, (n) => n >= 2 * live.length, 30_000, "two ticks");

    // Both die at a moment of their own (maybe mid-tick, mid-settlement or idle), and come back.
    await Bun.sleep(Math.floor(Math.random() * 3000));
    await Promise.all(workers.map(kill));
    workers = await Promise.all([startWorker(), startWorker()]);

    // The reconciler finds the silent pods lost; their settlement (and refund) follows, and ticks go on.
    const before = await debitCount();
    await waitFor(
      () =>
        db.$count(
          instanceRuns,
          sql`${inArray(
            instanceRuns.id,
            [...early, ...late].map((r) => r.runId),
          )} and ${instanceRuns.settledAt} is not null`,
        ),
      (n) => n === early.length + late.length,
      45_000,
      "the silent runs settled",
    );
    await waitFor(debitCount, (n) => n >= before + live.length, 30_000, "a tick after the restart");
    await waitFor(
      () =>
        db.$count(
          instanceRuns,
          sql`${inArray(
            instanceRuns.id,
            budgeted.map((r) => r.runId),
          )} and ${instanceRuns.endedAt} is not null`,
        ),
      (n) => n === budgeted.length,
      30_000,
      "the budgeted instances stopped",
    );

    beating = false;
    await heartbeats;
    for (const worker of workers) worker.proc.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.proc.exited));
    // Live runs have beaten since the last tick: one more brings them to their last heartbeat.
    await billingTick(db);

    const ended = await db
      .select()
      .from(instanceRuns)
      .where(
        inArray(
          instanceRuns.id,
          [...early, ...late].map((r) => r.runId),
        ),
      );
    expect(ended.every((r) => r.endedBecause === "lost")).toBe(true);
    const refunded = await db.$count(ledgerEntries, eq(ledgerEntries.kind, "refund"));
    expect(refunded).toBe(early.length);
    await expectExact(all);

    for (const { instanceId, runId } of budgeted) {
      const [run] = await db.select().from(instanceRuns).where(eq(instanceRuns.id, runId));
      expect({ runId, endedBecause: run!.endedBecause }).toEqual({ runId, endedBecause: "budget" });
      const stops = await db
        .select()
        .from(instanceEvents)
        .where(and(eq(instanceEvents.instanceId, instanceId), eq(instanceEvents.toState, "stopping")));
      expect(stops.map((e) => e.cause.replace(/€[\d.,]+/g, "€…"))).toEqual([
        "stopped by the platform: its monthly budget of €… was reached (€… spent this month)",
      ]);
      const full = await db
        .select()
        .from(notifications)
        .where(and(eq(notifications.instanceId, instanceId), sql`${notifications.data}->>'threshold_percent' = '100'`));
      expect(full).toHaveLength(1);
    }
  }, 180_000);
});

describe("ticker processes killed between a tick's writes and its commit", () => {
  test("the killed transaction leaves nothing; a concurrent ticker, itself killed, and a last tick bill every run once", async () => {
    const accountIds = await Promise.all(Array.from({ length: 4 }, () => meteredAccount(db, 20_000)));
    const runs = await Promise.all(Array.from({ length: 200 }, (_, i) => meteredRun(db, accountIds[i % 4]!, 100 + i, 120 + i)));
    const runIds = runs.map((r) => r.runId);

    for (let round = 0; round < 3; round++) {
      // Every run has new seconds to bill.
      await recordHeartbeats(
        db,
        runIds.map((run_id) => ({ run_id, age_ms: 0 })),
      );
      await Bun.sleep(1100);
      await recordHeartbeats(
        db,
        runIds.map((run_id) => ({ run_id, age_ms: 0 })),
      );
      const holder = startTicker("hold");
      const [, held] = await holder.line(/^uncommitted (\d+)/);
      expect(Number(held)).toBeGreaterThan(0);
      // A ticker beside it skips the held runs, bills the others, and waits at the balances the holder
      // has written; it goes on once the holder dies, and is itself killed at a moment of its own.
      const looper = startTicker("loop");
      // Seen from the database: a session of this database waits for a row lock (the holder's balances).
      await waitFor(
        async () => {
          const [row] = await db.execute<{ n: number }>(
            sql`select count(*)::integer as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
          );
          return row!.n;
        },
        (n) => n > 0,
        20_000,
        "the second ticker waiting at the held balances",
      );
      expect(looper.output()).toBe("");
      await kill(holder);
      await looper.line(/^tick \d+/);
      await Bun.sleep(Math.floor(Math.random() * 200));
      await kill(looper);
      // The holder's writes died with it: after a last tick, each run is exact, none billed twice.
      await billingTick(db);
      await expectExact(runIds);
    }
  }, 120_000);
});

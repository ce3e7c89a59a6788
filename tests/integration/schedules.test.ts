/**
 * Schedules on real PostgreSQL: rules fired through the lifecycle verbs, once per due time with several
 * schedulers at once and with two real worker processes (one killed -9 midway), missed runs inside and outside
 * the catch-up window, a start without funds, and rules deleted with their instance. The database clock is the
 * scheduler's: a due time in the past is set by writing `next_run_at` before now.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { PricingSnapshot } from "../../db/schema";
import { instanceEvents, instanceRuns, instances, scheduleExecutions, scheduleRules } from "../../db/schema";
import { projectRoot } from "../../src/config";
import type { AccountContext } from "../../src/context";
import { NotFoundError } from "../../src/errors";
import { deleteMany } from "../../src/instances/lifecycle";
import type { JobQueue } from "../../src/jobs/queue";
import { fireDueRules, lifecycleAction } from "../../src/schedules/fire";
import { createRules, listRules, scheduleHistory, updateRule } from "../../src/schedules/rules";
import { type Child, spawnChild } from "../support/child-process";
import { freePort } from "../support/cluster";
import { waitFor } from "../support/compute";
import { freshDatabase } from "../support/db";
import { meteredAccount, meteredRun } from "../support/metering";

const database = await freshDatabase();
const { db } = database;

const jobs: JobQueue = { send: async () => null };
const owner = (accountId: string): AccountContext => ({ db, accountId, role: "owner", actor: { kind: "system" } });
const action = lifecycleAction({ jobs, graceWindowHours: 24, minRunwayHours: 1 });
const fire = () => fireDueRules(db, action, { catchUpSeconds: 600 });

/** Makes the rule due `secondsAgo` seconds ago on the database clock. */
const dueAgo = (ruleId: string, secondsAgo: number) =>
  db.execute(sql`update schedule_rules set next_run_at = now() - make_interval(secs => ${secondsAgo}) where id = ${ruleId}`);

async function executionsOf(ruleId: string) {
  return db.select().from(scheduleExecutions).where(eq(scheduleExecutions.ruleId, ruleId));
}

async function stateOf(instanceId: string) {
  const [row] = await db.select({ state: instances.state }).from(instances).where(eq(instances.id, instanceId));
  return row!.state;
}

describe("rules", () => {
  test("a rule's next run is computed in its zone and kept in UTC; disabling clears it; another account's instance is not found", async () => {
    const accountId = await meteredAccount(db);
    const { instanceId } = await meteredRun(db, accountId, 100, 0);
    const [rule] = await createRules(owner(accountId), instanceId, [{ action: "stop", cron: "0 20 * * 1-5", timeZone: "Europe/Berlin" }]);
    expect(rule!.description).toBe("At 20:00, Monday through Friday");
    expect(rule!.upcoming).toHaveLength(3);
    expect(rule!.nextRunAt).toEqual(rule!.upcoming[0]!);
    const local = rule!.nextRunAt!.toLocaleString("en-GB", { timeZone: "Europe/Berlin", weekday: "short", hour: "2-digit", minute: "2-digit" });
    expect(local).toMatch(/^(Mon|Tue|Wed|Thu|Fri) 20:00$/);

    const disabled = await updateRule(owner(accountId), rule!.id, { enabled: false });
    expect(disabled.nextRunAt).toBeNull();
    expect(disabled.upcoming).toEqual([]);

    const other = await meteredAccount(db);
    expect(createRules(owner(other), instanceId, [{ action: "stop", cron: "@daily", timeZone: "UTC" }])).rejects.toBeInstanceOf(NotFoundError);
    expect(updateRule(owner(other), rule!.id, { enabled: true })).rejects.toBeInstanceOf(NotFoundError);
    expect(createRules(owner(accountId), instanceId, [{ action: "stop", cron: "@daily", timeZone: "Europe/Berln" }])).rejects.toThrow(
      "did you mean Europe/Berlin?",
    );
  });

  test("deleting the instance deletes its rules in the same transaction; the history stays readable", async () => {
    const accountId = await meteredAccount(db);
    const { instanceId } = await meteredRun(db, accountId, 100, 0);
    const [rule] = await createRules(owner(accountId), instanceId, [{ action: "start", cron: "@hourly", timeZone: "UTC" }]);
    await dueAgo(rule!.id, 1);
    await fire();
    await deleteMany(owner(accountId), jobs, [instanceId], "by a test");
    expect(await db.select().from(scheduleRules).where(eq(scheduleRules.instanceId, instanceId))).toEqual([]);
    const history = await scheduleHistory(owner(accountId), instanceId, { limit: 10 });
    expect(history.executions.map((e) => [e.action, e.outcome, e.cron])).toEqual([["start", "skipped", "@hourly"]]);
    expect(listRules(owner(accountId), instanceId)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("the scheduler", () => {
  test("a due stop rule stops a running instance through the stop verb (its run ends now); a start rule on it is skipped, naming the state", async () => {
    const accountId = await meteredAccount(db);
    const { instanceId, runId } = await meteredRun(db, accountId, 100, 600);
    const [stop, start] = await createRules(owner(accountId), instanceId, [
      { action: "stop", cron: "0 20 * * *", timeZone: "Europe/Berlin" },
      { action: "start", cron: "0 8 * * *", timeZone: "Europe/Berlin" },
    ]);
    await dueAgo(start!.id, 3);
    await dueAgo(stop!.id, 2);
    const report = await fire();
    expect(report).toMatchObject({ fired: 2, succeeded: 1, skipped: 1 });
    expect((await executionsOf(start!.id)).map((e) => [e.outcome, e.detail])).toEqual([["skipped", "The instance is already running."]]);
    expect((await executionsOf(stop!.id)).map((e) => e.outcome)).toEqual(["succeeded"]);
    expect(await stateOf(instanceId)).toBe("stopping");
    const [run] = await db.select().from(instanceRuns).where(eq(instanceRuns.id, runId));
    expect(run!.endedBecause).toBe("stopped");
    const [event] = await db
      .select()
      .from(instanceEvents)
      .where(and(eq(instanceEvents.instanceId, instanceId), eq(instanceEvents.toState, "stopping")));
    expect(event!.cause).toBe(`stopped by schedule rule ${stop!.id} (At 20:00, Europe/Berlin)`);
    // Both rules moved on to their next run, after now.
    const rules = await db.select().from(scheduleRules).where(eq(scheduleRules.instanceId, instanceId));
    for (const rule of rules) expect(rule.nextRunAt!.getTime()).toBeGreaterThan(Date.now() - 1000);
  });

  test("a start rule without funds records failed with the reason", async () => {
    const accountId = await meteredAccount(db, 0);
    const { instanceId } = await meteredRun(db, accountId, 100, 0);
    const pricingSnapshot: PricingSnapshot = {
      lockedAt: new Date().toISOString(),
      modelClass: "llm",
      tier: "secure",
      gpuCount: 1,
      rows: [{ gpuType: "L4", rateCentsPerGpuHour: 100, providerCostCentsPerGpuHour: 60, catalogUpdatedAt: new Date().toISOString() }],
    };
    await db.update(instances).set({ state: "stopped", currentRunId: null, pricingSnapshot }).where(eq(instances.id, instanceId));
    const [rule] = await createRules(owner(accountId), instanceId, [{ action: "start", cron: "0 8 * * 1-5", timeZone: "UTC" }]);
    await dueAgo(rule!.id, 5);
    await fire();
    const [execution] = await executionsOf(rule!.id);
    expect(execution!.outcome).toBe("failed");
    expect(execution!.detail).toContain("Top up at least");
    expect(await stateOf(instanceId)).toBe("stopped");
  });

  test("missed runs: 5 minutes late fires (inside the 10-minute window), 20 minutes late is recorded missed; neither fires twice", async () => {
    const accountId = await meteredAccount(db);
    const { instanceId } = await meteredRun(db, accountId, 100, 0);
    const [late, stale] = await createRules(owner(accountId), instanceId, [
      { action: "start", cron: "* * * * *", timeZone: "UTC" },
      { action: "start", cron: "* * * * *", timeZone: "UTC" },
    ]);
    await dueAgo(late!.id, 300);
    await dueAgo(stale!.id, 1200);
    await fire();
    await fire();
    expect((await executionsOf(late!.id)).map((e) => e.outcome)).toEqual(["skipped"]);
    const [missed] = await executionsOf(stale!.id);
    expect(missed!.outcome).toBe("missed");
    expect(missed!.detail).toMatch(/^Due at .*, seen 20 min late \(the scheduler was not running\); the catch-up window is 10 min\.$/);
    // A rule due every minute, 20 minutes behind, is not fired 20 times: its next run is the next minute after now.
    const [after] = await db.select().from(scheduleRules).where(eq(scheduleRules.id, stale!.id));
    expect(after!.nextRunAt!.getTime()).toBeGreaterThan(Date.now() - 1000);
  });

  test("four schedulers at once fire each of 60 due rules exactly once", async () => {
    const accountId = await meteredAccount(db);
    const rules: string[] = [];
    for (let i = 0; i < 20; i++) {
      const { instanceId } = await meteredRun(db, accountId, 100, 0);
      const made = await createRules(owner(accountId), instanceId, [
        { action: "stop", cron: "@daily", timeZone: "UTC" },
        { action: "start", cron: "@hourly", timeZone: "Asia/Kolkata" },
        { action: "stop", cron: "*/5 * * * *", timeZone: "America/New_York" },
      ]);
      rules.push(...made.map((r) => r.id));
    }
    await db.execute(sql`update schedule_rules set next_run_at = now() - interval '2 seconds' where ${inArray(scheduleRules.id, rules)}`);
    const reports = await Promise.all(Array.from({ length: 4 }, () => fireDueRules(db, action, { catchUpSeconds: 600, batchSize: 7 })));
    expect(reports.reduce((sum, r) => sum + r.fired, 0)).toBe(60);
    const counts = await db.execute<{ n: number }>(
      sql`select count(*)::int as n from schedule_executions where ${inArray(scheduleExecutions.ruleId, rules)} group by rule_id`,
    );
    expect(counts.map((c) => c.n)).toEqual(Array(60).fill(1));
  });
});

describe("two worker processes", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "qdz-schedules-"));
  const children = new Set<Child>();
  afterAll(() => {
    for (const child of children) child.proc.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function startWorker(): Promise<Child> {
    const env = { ...process.env, DATABASE_URL: database.url, PORT: String(await freePort()), QDZ_DATA_DIR: dataDir, SCHEDULE_POLL_SECONDS: "1" };
    const worker = spawnChild([process.execPath, join(projectRoot, "workers/main.ts")], env);
    children.add(worker);
    await worker.line(/^workers started/);
    return worker;
  }

  test("each due time fires once with two workers, one of them killed -9 midway", async () => {
    const accountId = await meteredAccount(db);
    const made: { instanceId: string; ruleId: string }[] = [];
    for (let i = 0; i < 60; i++) {
      const { instanceId } = await meteredRun(db, accountId, 100, 0);
      const [rule] = await createRules(owner(accountId), instanceId, [{ action: "stop", cron: "@daily", timeZone: "Europe/Berlin" }]);
      made.push({ instanceId, ruleId: rule!.id });
    }
    const workers = await Promise.all([startWorker(), startWorker()]);
    // Due in waves: a third now, the rest while one worker dies.
    const due = (slice: typeof made) =>
      db.execute(
        sql`update schedule_rules set next_run_at = now() where ${inArray(
          scheduleRules.id,
          slice.map((m) => m.ruleId),
        )}`,
      );
    await due(made.slice(0, 20));
    await Bun.sleep(Math.floor(Math.random() * 1500));
    workers[0]!.proc.kill("SIGKILL");
    await due(made.slice(20));
    await waitFor(
      () =>
        db.$count(
          scheduleExecutions,
          inArray(
            scheduleExecutions.ruleId,
            made.map((m) => m.ruleId),
          ),
        ),
      (n) => n === made.length,
      30_000,
      "every rule fired",
    );
    await Bun.sleep(1500); // a poll or two more: nothing fires again
    for (const { instanceId, ruleId } of made) {
      expect((await executionsOf(ruleId)).map((e) => e.outcome)).toEqual(["succeeded"]);
      const stops = await db
        .select()
        .from(instanceEvents)
        .where(and(eq(instanceEvents.instanceId, instanceId), eq(instanceEvents.toState, "stopping")));
      expect(stops).toHaveLength(1);
    }
    workers[1]!.proc.kill("SIGTERM");
    await workers[1]!.proc.exited;
  }, 90_000);
});

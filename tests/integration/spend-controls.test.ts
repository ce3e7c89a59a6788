import { describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { budgets, instanceEvents, instanceRuns, instances, notifications } from "../../db/schema";
import { postEntry } from "../../src/billing/ledger";
import type { AccountContext } from "../../src/context";
import { BudgetReachedError, ForbiddenError, NotFoundError } from "../../src/errors";
import { deleteMany, requestStart } from "../../src/instances/lifecycle";
import { endRun } from "../../src/instances/runs";
import type { JobQueue } from "../../src/jobs/queue";
import { settleRun } from "../../src/metering/settle";
import { billingTick } from "../../src/metering/tick";
import { listNotifications, markRead } from "../../src/notifications/list";
import { assertWithinBudgets, listBudgets, setBudget } from "../../src/spend/budgets";
import { watchSpend } from "../../src/spend/watch";
import { foldUsageDays } from "../../src/usage/fold";
import { freshDatabase } from "../support/db";
import { meteredAccount, meteredRun } from "../support/metering";
import { unfoldUsageFrom } from "../support/usage";

const database = await freshDatabase();
const { db } = database;

/** A queue that records what was asked of it: the stops' release and settlement jobs are not run here. */
const sent: { name: string; payload: unknown }[] = [];
const jobs: JobQueue = {
  send: async (name, payload) => {
    sent.push({ name, payload });
    return null;
  },
};

const owner = (accountId: string): AccountContext => ({ db, accountId, role: "owner", actor: { kind: "system" } });
const member = (accountId: string): AccountContext => ({ db, accountId, role: "member", actor: { kind: "system" } });
const watch = () => watchSpend(db, jobs, { graceWindowHours: 24 });
const lifecycle = { jobs, graceWindowHours: 24, minRunwayHours: 0 };

/** The run's last heartbeat `seconds` after it started running, then a tick bills it. */
async function ranFor(runId: string, seconds: number) {
  await db.execute(sql`update instance_runs set last_heartbeat_at = running_at + make_interval(secs => ${seconds}) where id = ${runId}`);
  await billingTick(db, { alerts: jobs });
}

async function alertsOf(accountId: string) {
  return db.select().from(notifications).where(eq(notifications.accountId, accountId)).orderBy(notifications.createdAt);
}

async function stateOf(instanceId: string) {
  const [row] = await db.select({ state: instances.state }).from(instances).where(eq(instances.id, instanceId));
  return row!.state;
}

/** 3,600 c/h: one cent a second, so seconds read as cents. */
const CENT_A_SECOND = 3600;

describe("instance budgets", () => {
  test("a budget crossed by ticks alerts once at 50, 80 and 100 %, and stops the instance once, with cause budget", async () => {
    const accountId = await meteredAccount(db);
    const { instanceId, runId } = await meteredRun(db, accountId, CENT_A_SECOND, 0);
    await setBudget(owner(accountId), { instanceId, monthlyCents: 500 });

    await ranFor(runId, 240);
    await watch();
    expect(await alertsOf(accountId)).toHaveLength(0);

    await ranFor(runId, 260);
    await watch();
    await ranFor(runId, 410);
    await watch();
    await watch();
    expect((await alertsOf(accountId)).map((a) => [a.kind, a.data.threshold_percent, a.severity])).toEqual([
      ["budget", 50, "info"],
      ["budget", 80, "warning"],
    ]);
    expect(await stateOf(instanceId)).toBe("running");

    await ranFor(runId, 500);
    // Four watchers at once, as several worker replicas: one stop, one alert.
    await Promise.all([watch(), watch(), watch(), watch()]);
    await watch();

    const alerts = await alertsOf(accountId);
    expect(alerts.map((a) => a.data.threshold_percent)).toEqual([50, 80, 100]);
    expect(alerts[2]).toMatchObject({ severity: "critical", instanceId });
    expect(alerts[2]!.body).toBe(
      `€5.00 of €5.00 spent in ${new Date().toLocaleString("en-GB", { month: "long", year: "numeric", timeZone: "UTC" })}. It was stopped; it cannot start again this month unless its budget is raised.`,
    );
    expect(await stateOf(instanceId)).toBe("stopping");
    const [run] = await db.select().from(instanceRuns).where(eq(instanceRuns.id, runId));
    expect(run!.endedBecause).toBe("budget");
    const stops = await db.select().from(instanceEvents).where(eq(instanceEvents.instanceId, instanceId));
    const budgetStops = stops.filter((e) => e.toState === "stopping");
    expect(budgetStops).toHaveLength(1);
    expect(budgetStops[0]!.cause).toBe("stopped by the platform: its monthly budget of €5.00 was reached (€5.00 spent this month)");
    expect(sent.filter((job) => job.name === "instances.stop" && (job.payload as { runId: string }).runId === runId)).toHaveLength(1);
  });

  test("a used-up budget refuses the start; raising it re-arms the alerts and lets it start", async () => {
    const accountId = await meteredAccount(db);
    const { instanceId, runId } = await meteredRun(db, accountId, CENT_A_SECOND, 0);
    await setBudget(owner(accountId), { instanceId, monthlyCents: 300 });
    await ranFor(runId, 300);
    await watch();
    await db.update(instances).set({ state: "stopped" }).where(eq(instances.id, instanceId));
    await settleRun(db, runId);

    const refused = requestStart(owner(accountId), lifecycle, instanceId, "by a test");
    expect(refused).rejects.toBeInstanceOf(BudgetReachedError);
    expect(refused).rejects.toThrow("monthly budget of €3.00 is used up (€3.00 spent this month). Raise the budget in the instance's Settings");

    await setBudget(owner(accountId), { instanceId, monthlyCents: 600 });
    await watch();
    const alerts = await alertsOf(accountId);
    expect(alerts.map((a) => [a.data.monthly_budget_cents, a.data.threshold_percent])).toEqual([
      [300, 100],
      [600, 50],
    ]);
    expect((await requestStart(owner(accountId), lifecycle, instanceId, "by a test")).state).toBe("pending");
  });

  test("a jump from nothing to past 100 % in one tick raises one alert, at 100 %", async () => {
    const accountId = await meteredAccount(db);
    const { instanceId, runId } = await meteredRun(db, accountId, CENT_A_SECOND, 0);
    await setBudget(owner(accountId), { instanceId, monthlyCents: 200 });
    await ranFor(runId, 250);
    await watch();
    expect((await alertsOf(accountId)).map((a) => a.data.threshold_percent)).toEqual([100]);
    expect((await listBudgets(owner(accountId))).instances[0]).toMatchObject({ spentCents: 250, percent: 125, monthlyCents: 200 });
  });

  test("refunds count against the month's spend, and last month's spend does not", async () => {
    const accountId = await meteredAccount(db);
    const { instanceId, runId } = await meteredRun(db, accountId, CENT_A_SECOND, 0);
    await ranFor(runId, 40);
    await endRun(db, jobs, { runId, reason: "failed", detail: "exit code 137", transition: { to: "failed", cause: "the pod failed" } });
    await settleRun(db, runId, jobs);
    await db.execute(sql`
      insert into instance_usage_daily (instance_id, day, account_id, cost_cents)
      values (${instanceId}, date_trunc('month', now(), 'UTC') - interval '1 day', ${accountId}, 9999)`);
    await setBudget(owner(accountId), { instanceId, monthlyCents: 100 });
    expect((await listBudgets(owner(accountId))).instances[0]).toMatchObject({ spentCents: 0, percent: 0 });
  });

  test("an instance's month-to-date spend reads the same from its hours and, once the day is folded, from its day", async () => {
    const accountId = await meteredAccount(db);
    const { instanceId, runId } = await meteredRun(db, accountId, CENT_A_SECOND, 0);
    await setBudget(owner(accountId), { instanceId, monthlyCents: 1000 });
    await ranFor(runId, 150);
    const spent = async () => (await listBudgets(owner(accountId))).instances[0]!.spentCents;
    expect(await spent()).toBe(150);

    const [today] = await db.execute<{ start: string; tomorrow: Date }>(
      sql`select date_trunc('day', now(), 'UTC')::text as start, date_trunc('day', now(), 'UTC') + interval '1 day 1 hour' as tomorrow`,
    );
    expect(await foldUsageDays(db, { now: new Date(today!.tomorrow) })).toMatchObject({ days: 1 });
    try {
      expect(await spent()).toBe(150);
    } finally {
      await unfoldUsageFrom(database.owner(), today!.start);
    }
    expect(await spent()).toBe(150);
  });

  test("deleting an instance deletes its budget; its alerts stay", async () => {
    const accountId = await meteredAccount(db);
    const { instanceId, runId } = await meteredRun(db, accountId, CENT_A_SECOND, 0);
    await setBudget(owner(accountId), { instanceId, monthlyCents: 100 });
    await ranFor(runId, 120);
    await watch();
    await deleteMany(owner(accountId), jobs, [instanceId], "by a test");
    expect(await db.select().from(budgets).where(eq(budgets.instanceId, instanceId))).toEqual([]);
    expect((await alertsOf(accountId)).map((a) => a.kind)).toEqual(["budget"]);
  });
});

describe("account budgets", () => {
  test("at 100 % launches are refused and running instances keep running, unless the owner chose to stop them", async () => {
    const accountId = await meteredAccount(db);
    const other = await meteredAccount(db);
    const a = await meteredRun(db, accountId, CENT_A_SECOND, 0);
    const b = await meteredRun(db, accountId, CENT_A_SECOND, 0);
    const elsewhere = await meteredRun(db, other, CENT_A_SECOND, 0);
    await setBudget(owner(accountId), { monthlyCents: 400 });
    await ranFor(a.runId, 200);
    await ranFor(b.runId, 200);
    await ranFor(elsewhere.runId, 900);
    await watch();

    expect(assertWithinBudgets(db, accountId)).rejects.toThrow(
      "The account's monthly budget of €4.00 is used up (€4.00 spent this month). Raise the budget on the Billing page",
    );
    expect(assertWithinBudgets(db, other)).resolves.toBeUndefined();
    expect([await stateOf(a.instanceId), await stateOf(b.instanceId)]).toEqual(["running", "running"]);
    const [alert] = (await alertsOf(accountId)).filter((a) => a.kind === "budget");
    expect(alert!.body).toContain("New launches are refused until next month or a higher budget. Running instances keep running");

    await setBudget(owner(accountId), { monthlyCents: 400, stopRunning: true });
    await watch();
    expect([await stateOf(a.instanceId), await stateOf(b.instanceId), await stateOf(elsewhere.instanceId)]).toEqual(["stopping", "stopping", "running"]);
    // The same amount: the 100 % alert was raised already; the stop is what changed.
    expect((await alertsOf(accountId)).filter((a) => a.kind === "budget")).toHaveLength(1);
  });

  test("the account's budget is the owners'; another account's instance is not found; budgets stay in their account", async () => {
    const accountId = await meteredAccount(db);
    const other = await meteredAccount(db);
    const theirs = await meteredRun(db, other, 100, 0);
    expect(setBudget(member(accountId), { monthlyCents: 1000 })).rejects.toBeInstanceOf(ForbiddenError);
    expect(setBudget(owner(accountId), { instanceId: theirs.instanceId, monthlyCents: 1000 })).rejects.toBeInstanceOf(NotFoundError);
    expect(setBudget(owner(accountId), { instanceId: theirs.instanceId, monthlyCents: 1000, stopRunning: true })).rejects.toThrow("Only the account's budget");
    const mine = await meteredRun(db, accountId, 100, 0);
    await setBudget(member(accountId), { instanceId: mine.instanceId, monthlyCents: 1000 });
    expect((await listBudgets(owner(other))).instances).toEqual([]);
    expect(await db.select().from(budgets).where(eq(budgets.accountId, other))).toEqual([]);
  });
});

describe("runway, grace, failure and refund alerts", () => {
  test("runway below 24 h and below 1 h alert once per crossing; a top-up re-arms them", async () => {
    const accountId = await meteredAccount(db, 2000);
    await meteredRun(db, accountId, 100, 0); // €1/h on €20: 20 h
    await watch();
    await watch();
    expect((await alertsOf(accountId)).map((a) => [a.kind, a.data.below_hours])).toEqual([["runway", 24]]);

    await postEntry(db, { accountId, kind: "topup", amountCents: 5000, reference: "cs_more" }); // 70 h
    await watch();
    await postEntry(db, { accountId, kind: "adjustment", amountCents: -6950, reference: "adj_down" }); // 50 c: 30 min
    await Promise.all([watch(), watch()]);
    const alerts = await alertsOf(accountId);
    expect(alerts.map((a) => [a.kind, a.data.below_hours])).toEqual([
      ["runway", 24],
      ["runway", 1],
    ]);
    expect(alerts[1]!.body).toBe("At the current burn of €1.00/h, your balance of €0.50 lasts about 30 min. Top up to keep instances running.");
  });

  test("a grace start alerts once", async () => {
    const accountId = await meteredAccount(db, 100);
    await postEntry(db, { accountId, kind: "adjustment", amountCents: -150, reference: "adj_neg" });
    await Promise.all([watch(), watch()]);
    await watch();
    const alerts = (await alertsOf(accountId)).filter((a) => a.kind === "grace_started");
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.body).toStartWith("Your balance is -€0.50. New launches are refused");
  });

  test("a failed run and its refund alert once each, however often the end and the settlement run", async () => {
    const accountId = await meteredAccount(db);
    const { instanceId, runId } = await meteredRun(db, accountId, CENT_A_SECOND, 0);
    await ranFor(runId, 30);
    const end = () => endRun(db, jobs, { runId, reason: "lost", detail: "no heartbeat for 90 s", transition: { to: "failed", cause: "lost" } });
    await end();
    await end().catch(() => null);
    await Promise.all([settleRun(db, runId, jobs), settleRun(db, runId, jobs)]);
    await billingTick(db, { alerts: jobs });
    const alerts = await alertsOf(accountId);
    expect(alerts.map((a) => [a.kind, a.instanceId])).toEqual([
      ["instance_failed", instanceId],
      ["refund", instanceId],
    ]);
    expect(alerts[1]!.title).toBe(`Refunded €0.30 for '${instanceId.slice(0, 13)}'`);
  });

  test("the list pages newest first, counts unread, and marking read stays in the account", async () => {
    const accountId = await meteredAccount(db, 100);
    const other = await meteredAccount(db, 100);
    for (const id of [accountId, other]) await postEntry(db, { accountId: id, kind: "adjustment", amountCents: -150, reference: "adj" });
    await meteredRun(db, accountId, 100, 0);
    await watch();
    const first = await listNotifications(owner(accountId), { limit: 1 });
    expect(first.unread).toBe(2);
    expect(first.notifications).toHaveLength(1);
    const second = await listNotifications(owner(accountId), { limit: 1, cursor: first.nextCursor });
    expect(second.nextCursor).toBeNull();
    expect(new Set([...first.notifications, ...second.notifications].map((n) => n.kind))).toEqual(new Set(["runway", "grace_started"]));

    const theirs = await listNotifications(owner(other), { limit: 10 });
    expect(await markRead(owner(accountId), { ids: theirs.notifications.map((n) => n.id) })).toBe(2);
    expect((await listNotifications(owner(other), { limit: 10 })).unread).toBe(theirs.unread);
    expect(await markRead(owner(accountId), { all: true })).toBe(0);
    expect(listNotifications(owner(accountId), { limit: 1, cursor: "bm9wZQ" })).rejects.toThrow("cursor");
  });
});

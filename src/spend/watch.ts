import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Executor, Transaction } from "../../db/client";
import { instances } from "../../db/schema";
import { recordAudit, systemActor } from "../audit/record";
import { formatEur } from "../billing/money-format";
import { withTransaction } from "../context";
import { stateChange, stopInstance } from "../instances/lifecycle";
import { displayName } from "../instances/queries";
import { actions } from "../instances/state-machine";
import type { Instance } from "../instances/transition";
import type { JobQueue } from "../jobs/queue";
import { liveRunSql } from "../metering/billable";
import { runwaySeconds } from "../metering/forecast";
import { notify } from "../notifications/notify";
import { budgetAlert, graceAlert, type RunwayLevel, runwayAlert, runwayLevel } from "./alerts";
import { monthToDateSql } from "./budgets";
import { thresholdReached } from "./thresholds";

export interface WatchReport {
  budgetsChecked: number;
  budgetAlerts: number;
  /** Instances stopped because a budget was used up. */
  stopped: number;
  runwayAlerts: number;
  graceAlerts: number;
}

export interface WatchOptions {
  graceWindowHours: number;
  /** Budgets per transaction. */
  batchSize?: number;
}

/**
 * The spend watcher, after each billing tick: compares every budget's month-to-date spend with its thresholds,
 * each account's runway with 24 h and 1 h, and raises grace starts. Safe with many workers at once: budget rows
 * and runway levels are claimed with `SKIP LOCKED` or locked, and every alert has a key that makes it once.
 */
export async function watchSpend(db: Executor, jobs: JobQueue, options: WatchOptions): Promise<WatchReport> {
  const report: WatchReport = { budgetsChecked: 0, budgetAlerts: 0, stopped: 0, runwayAlerts: 0, graceAlerts: 0 };
  await watchBudgets(db, jobs, options.batchSize ?? 500, report);
  await watchRunways(db, jobs, report);
  await watchGrace(db, jobs, options.graceWindowHours, report);
  return report;
}

type ClaimedBudget = {
  id: string;
  account_id: string;
  instance_id: string | null;
  monthly_cents: string;
  stop_running: boolean;
  alerted_month: string | null;
  alerted_cents: string | null;
  alerted_percent: number;
  month: string;
  spent_cents: string;
};

async function watchBudgets(db: Executor, jobs: JobQueue, batchSize: number, report: WatchReport): Promise<void> {
  let afterId = "";
  for (;;) {
    const claimed = await withTransaction(db, async (tx) => {
      // A budget another watcher holds is its to check this round.
      const rows = await tx.execute<ClaimedBudget>(sql`
        select b.id, b.account_id, b.instance_id, b.monthly_cents::text, b.stop_running,
               b.alerted_month, b.alerted_cents::text, b.alerted_percent,
               to_char(now() at time zone 'UTC', 'YYYY-MM') as month,
               (case when b.instance_id is null then ${monthToDateSql({ accountId: sql`b.account_id` })}
                 else ${monthToDateSql({ instanceId: sql`b.instance_id` })} end)::text as spent_cents
        from budgets b where b.id > ${afterId} order by b.id limit ${batchSize}
        for update of b skip locked`);
      for (const row of rows) await checkBudget(tx, jobs, row, report);
      return rows;
    });
    report.budgetsChecked += claimed.length;
    if (claimed.length < batchSize) return;
    afterId = claimed.at(-1)!.id;
  }
}

async function checkBudget(tx: Transaction, jobs: JobQueue, budget: ClaimedBudget, report: WatchReport): Promise<void> {
  const monthlyCents = Number(budget.monthly_cents);
  const spentCents = Number(budget.spent_cents);
  const reached = thresholdReached(spentCents, monthlyCents);
  // What was announced counts only for this month and this amount: a new month or a new budget starts again.
  const announced = budget.alerted_month === budget.month && Number(budget.alerted_cents) === monthlyCents ? budget.alerted_percent : 0;
  const stopped = reached === 100 ? await enforce(tx, jobs, budget, spentCents) : [];
  report.stopped += stopped.length;
  if (reached === 0 || reached <= announced) return;

  const instance = budget.instance_id ? await instanceName(tx, budget.instance_id) : null;
  const alert = budgetAlert({
    budgetId: budget.id,
    instance,
    month: budget.month,
    monthlyCents,
    spentCents,
    threshold: reached,
    stopped: stopped.map(displayName),
    stopRunning: budget.stop_running,
  });
  if (await notify(tx, jobs, budget.account_id, alert)) report.budgetAlerts += 1;
  await tx.execute(sql`
    update budgets set alerted_month = ${budget.month}, alerted_cents = ${monthlyCents}, alerted_percent = ${reached}
    where id = ${budget.id}`);
}

/**
 * A used-up budget stops what it covers: its instance, or (when the owner chose so) every live instance of the
 * account. Checked at every look, not only at the crossing, so an instance that slipped past (a start racing
 * the crossing) is stopped at the next. Stopping ends the run with reason `budget`; it is never deleted.
 */
async function enforce(tx: Transaction, jobs: JobQueue, budget: ClaimedBudget, spentCents: number): Promise<Instance[]> {
  if (budget.instance_id === null && !budget.stop_running) return [];
  const scope = budget.instance_id === null ? eq(instances.accountId, budget.account_id) : eq(instances.id, budget.instance_id);
  // The instances first, then their runs: the order every writer takes (src/instances/runs.ts).
  const live = await tx
    .select()
    .from(instances)
    .where(and(scope, isNull(instances.deletedAt), inArray(instances.state, [...actions.stop])))
    .orderBy(instances.id)
    .for("update");
  const whose = budget.instance_id === null ? "the account's" : "its";
  const cause = `stopped by the platform: ${whose} monthly budget of ${formatEur(Number(budget.monthly_cents))} was reached (${formatEur(spentCents)} spent this month)`;
  const stopped: Instance[] = [];
  for (const instance of live) {
    const after = await stopInstance(tx, jobs, instance, cause, "budget");
    await recordAudit({ db: tx, accountId: instance.accountId, actor: systemActor }, stateChange("instance.stopped", instance, after, "budget"));
    stopped.push(after);
  }
  return stopped;
}

async function instanceName(tx: Transaction, instanceId: string): Promise<{ id: string; name: string }> {
  const [row] = await tx.execute<{ name: string | null }>(sql`select name from instances where id = ${instanceId}`);
  return { id: instanceId, name: displayName({ id: instanceId, name: row?.name ?? null }) };
}

/**
 * Runway alerts, once per crossing: an account's level (below 24 h, below 1 h) is remembered, an alert is
 * raised when it gets worse, and a level that gets better (a top-up, instances stopped) re-arms the alerts.
 * Only accounts that burn now, or that are remembered below a threshold, are looked at.
 */
async function watchRunways(db: Executor, jobs: JobQueue, report: WatchReport): Promise<void> {
  const rows = await db.execute<{ account_id: string; balance_cents: string; burn: string; level: number }>(sql`
    with burn as (
      select i.account_id, sum(r.rate_cents_per_hour) as burn
      from instance_runs r join instances i on i.id = r.instance_id
      where ${liveRunSql("r")} group by i.account_id
    ), watched as (
      select account_id from burn union select account_id from runway_alert_levels where level > 0
    )
    select w.account_id, coalesce(b.balance_cents, 0)::text as balance_cents, coalesce(burn.burn, 0)::text as burn,
           coalesce(l.level, 0)::int as level
    from watched w
    left join account_balances b on b.account_id = w.account_id
    left join burn on burn.account_id = w.account_id
    left join runway_alert_levels l on l.account_id = w.account_id`);
  for (const row of rows) {
    const balanceCents = Number(row.balance_cents);
    const burnCentsPerHour = Number(row.burn);
    const runway = runwaySeconds(balanceCents, burnCentsPerHour);
    const level = runwayLevel(runway);
    if (level === row.level) continue;
    const raised = await withTransaction(db, async (tx) => {
      await tx.execute(sql`insert into runway_alert_levels (account_id, level) values (${row.account_id}, 0) on conflict do nothing`);
      const [held] = await tx.execute<{ level: number; now: string }>(sql`
        select level, now()::text as now from runway_alert_levels where account_id = ${row.account_id} for update`);
      const before = held!.level as RunwayLevel;
      if (before === level) return false;
      await tx.execute(sql`update runway_alert_levels set level = ${level}, updated_at = now() where account_id = ${row.account_id}`);
      if (level < before) return false;
      const alert = runwayAlert({ level: level as 1 | 2, episode: held!.now, balanceCents, burnCentsPerHour, runwaySeconds: runway ?? 0 });
      return Boolean(await notify(tx, jobs, row.account_id, alert));
    });
    if (raised) report.runwayAlerts += 1;
  }
}

/** Grace starts not yet announced: one alert per start (the key is the start's time). */
async function watchGrace(db: Executor, jobs: JobQueue, graceWindowHours: number, report: WatchReport): Promise<void> {
  const key = sql`'grace:' || ((extract(epoch from b.grace_started_at) * 1000000)::bigint)::text`;
  const rows = await db.execute<{ account_id: string; started_at: Date; balance_cents: string; key: string }>(sql`
    select b.account_id, b.grace_started_at as started_at, b.balance_cents::text, substr(${key}, 7) as key
    from account_balances b
    where b.grace_started_at is not null
      and not exists (select from notifications n where n.account_id = b.account_id and n.dedup_key = ${key})`);
  for (const row of rows) {
    const startedAt = new Date(row.started_at);
    const endsAt = new Date(startedAt.getTime() + graceWindowHours * 3_600_000);
    const alert = graceAlert({ startedAt, endsAt, balanceCents: Number(row.balance_cents), key: row.key });
    if (await notify(db, jobs, row.account_id, alert)) report.graceAlerts += 1;
  }
}

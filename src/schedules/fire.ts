import { sql } from "drizzle-orm";
import type { Executor, Transaction } from "../../db/client";
import type { scheduleExecutions } from "../../db/schema";
import type { AccountContext } from "../context";
import { withTransaction } from "../context";
import { DomainError } from "../errors";
import { type LifecycleDeps, requestStart, requestStop } from "../instances/lifecycle";
import { getInstance } from "../instances/queries";
import { canStart, canStop } from "../instances/state-machine";
import { log } from "../platform/log";
import { schedulesExecuted } from "../platform/metrics";
import { describeCron, nextRun } from "./cron";
import type { ScheduleRuleRow } from "./rules";

export type Outcome = (typeof scheduleExecutions.$inferSelect)["outcome"];

export interface ActionResult {
  outcome: Exclude<Outcome, "missed">;
  detail: string | null;
}

/** What a due rule does to its instance, inside the scheduler's transaction (a savepoint of it). */
export type PerformAction = (tx: Transaction, rule: ScheduleRuleRow) => Promise<ActionResult>;

export interface FireOptions {
  /** How late a due time may still fire; later, it is recorded `missed` (SCHEDULE_CATCH_UP_SECONDS). */
  catchUpSeconds: number;
  /** Rules per transaction. */
  batchSize?: number;
}

export interface FireReport {
  fired: number;
  succeeded: number;
  skipped: number;
  failed: number;
  missed: number;
}

/**
 * The scheduler: claims due rules (`FOR UPDATE SKIP LOCKED`, in due order), performs each through the normal
 * lifecycle verbs, records the execution and moves the rule to its next run after now, all in one transaction
 * per batch, so with any number of schedulers each due time fires exactly once (the execution's key, rule and
 * due time, says so a second time). A due time later than the catch-up window is recorded `missed`, and the
 * next run is always after now: a scheduler back from a long outage fires a rule at most once, never a burst.
 */
export async function fireDueRules(db: Executor, perform: PerformAction, options: FireOptions): Promise<FireReport> {
  const report: FireReport = { fired: 0, succeeded: 0, skipped: 0, failed: 0, missed: 0 };
  const batchSize = options.batchSize ?? 500;
  for (;;) {
    const { claimed, outcomes } = await withTransaction(db, async (tx) => {
      const rows = await tx.execute<ScheduleRuleRow & { now: string }>(sql`
        select id, account_id as "accountId", instance_id as "instanceId", action, cron, time_zone as "timeZone",
               enabled, note, next_run_at as "nextRunAt", now()::text as now
        from schedule_rules where next_run_at <= now()
        order by next_run_at limit ${batchSize}
        for update skip locked`);
      const fired: Fired[] = [];
      for (const row of rows) fired.push(await fireOne(tx, perform, row, options));
      return { claimed: rows.length, outcomes: await record(tx, fired, report) };
    });
    // Counted once the batch committed: a rolled-back batch recorded nothing.
    for (const outcome of outcomes) schedulesExecuted.labels(outcome).inc();
    if (claimed < batchSize) return report;
  }
}

interface Fired {
  rule: ScheduleRuleRow;
  dueAt: Date;
  result: { outcome: Outcome; detail: string | null };
  nextRunAt: Date | null;
}

/** One due rule's action (or its miss), and its next run after now; recorded with the batch's others. */
async function fireOne(tx: Transaction, perform: PerformAction, row: ScheduleRuleRow & { now: string }, options: FireOptions): Promise<Fired> {
  const now = new Date(row.now);
  const dueAt = new Date(row.nextRunAt!);
  const lateSeconds = (now.getTime() - dueAt.getTime()) / 1000;
  const nextRunAt = nextRun(row.cron, row.timeZone, now);
  if (lateSeconds > options.catchUpSeconds) {
    const detail = `Due at ${dueAt.toISOString()}, seen ${formatDelay(lateSeconds)} late (the scheduler was not running); the catch-up window is ${formatDelay(options.catchUpSeconds)}.`;
    return { rule: row, dueAt, result: { outcome: "missed", detail }, nextRunAt };
  }
  try {
    // A savepoint: an action that fails leaves the batch's other rules and this execution's record intact.
    return { rule: row, dueAt, result: await tx.transaction((savepoint) => perform(savepoint, row)), nextRunAt };
  } catch (error) {
    if (!(error instanceof DomainError)) {
      log.error({ err: error, ruleId: row.id, accountId: row.accountId, instanceId: row.instanceId }, "schedule rule: the action failed unexpectedly");
    }
    const detail = error instanceof DomainError ? error.message : "The action failed unexpectedly.";
    return { rule: row, dueAt, result: { outcome: "failed", detail }, nextRunAt };
  }
}

/**
 * The batch's executions in one insert and its rules' next runs in one update (two statements, not two per
 * rule: bench:schedules). An execution already recorded for its rule and due time is not counted again.
 */
async function record(tx: Transaction, fired: Fired[], report: FireReport): Promise<Outcome[]> {
  if (fired.length === 0) return [];
  const rows = JSON.stringify(
    fired.map(({ rule, dueAt, result, nextRunAt }) => ({
      rule_id: rule.id,
      account_id: rule.accountId,
      instance_id: rule.instanceId,
      action: rule.action,
      cron: rule.cron,
      time_zone: rule.timeZone,
      due_at: dueAt.toISOString(),
      outcome: result.outcome,
      detail: result.detail,
      next_run_at: nextRunAt?.toISOString() ?? null,
    })),
  );
  const recorded = await tx.execute<{ outcome: Outcome }>(sql`
    with f as (
      select * from jsonb_to_recordset(${rows}::jsonb) as f(rule_id text, account_id text, instance_id text, action text,
        cron text, time_zone text, due_at timestamptz, outcome text, detail text, next_run_at timestamptz)
    ), advanced as (
      -- Runs whatever the insert below does with its rows: a data-modifying WITH always runs to completion.
      update schedule_rules r set next_run_at = f.next_run_at from f where r.id = f.rule_id
    )
    insert into schedule_executions (rule_id, account_id, instance_id, action, cron, time_zone, due_at, outcome, detail)
    select rule_id, account_id, instance_id, action::schedule_action, cron, time_zone, due_at, outcome::schedule_outcome, detail
    from f
    on conflict (rule_id, due_at) do nothing
    returning outcome`);
  for (const { outcome } of recorded) {
    report.fired += 1;
    report[outcome] += 1;
  }
  return recorded.map(({ outcome }) => outcome);
}

function formatDelay(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/**
 * The real action: start (which re-places the instance in smart mode and checks funds and budgets, as a person's
 * start does) or stop (which settles its billing), as the instance's account; skipped when the instance is
 * already where the rule wants it, with the state named.
 */
export function lifecycleAction(deps: LifecycleDeps): PerformAction {
  return async (tx, rule) => {
    const ctx: AccountContext = { db: tx, accountId: rule.accountId, role: "owner", actor: { kind: "schedule", ruleId: rule.id } };
    const instance = await getInstance(ctx, rule.instanceId, { lock: true });
    const cause = `by schedule rule ${rule.id} (${describeCron(rule.cron)}, ${rule.timeZone})`;
    if (rule.action === "start") {
      if (!canStart(instance.state)) return { outcome: "skipped", detail: `The instance is already ${instance.state.replace("_", "-")}.` };
      await requestStart(ctx, deps, instance.id, `started ${cause}`);
    } else {
      if (!canStop(instance.state)) return { outcome: "skipped", detail: `The instance is already ${instance.state.replace("_", "-")}.` };
      await requestStop(ctx, deps.jobs, instance.id, `stopped ${cause}`);
    }
    return { outcome: "succeeded", detail: null };
  };
}

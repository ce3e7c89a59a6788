import { and, desc, eq, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { scheduleExecutions, scheduleRules } from "../../db/schema";
import { recordAudit } from "../audit/record";
import { type AccountContext, withTransaction } from "../context";
import { InvalidInputError, NotFoundError } from "../errors";
import { newId } from "../ids";
import { getInstance } from "../instances/queries";
import { describeCron, nextRun, nextRuns, parseCron, parseTimeZone } from "./cron";

export type ScheduleRuleRow = typeof scheduleRules.$inferSelect;
export type ScheduleExecution = typeof scheduleExecutions.$inferSelect;
export type ScheduleAction = ScheduleRuleRow["action"];

export interface ScheduleRule extends ScheduleRuleRow {
  /** "At 08:00, Monday through Friday". */
  description: string;
  /** The next three times it is due (UTC instants; shown in the rule's zone and the viewer's). */
  upcoming: Date[];
  lastExecution: ScheduleExecution | null;
}

export interface RuleInput {
  action: ScheduleAction;
  cron: string;
  timeZone: string;
  enabled?: boolean;
  note?: string | null;
}

/** A rule as it would be: its words and next runs, without saving anything (the form's live preview). */
export function previewRule(input: { cron: string; timeZone: string }, now = new Date()) {
  const cron = parseCron(input.cron);
  const timeZone = parseTimeZone(input.timeZone);
  return { cron, timeZone, description: describeCron(cron), upcoming: nextRuns(cron, timeZone, now, 3) };
}

/** The database clock: a rule's next run counts from the time the scheduler compares it with. */
async function databaseNow(db: Executor): Promise<Date> {
  const [row] = await db.execute<{ now: string }>(sql`select now()::text as now`);
  return new Date(row!.now);
}

function nextRunFor(rule: { cron: string; timeZone: string; enabled: boolean }, now: Date): Date | null {
  return rule.enabled ? nextRun(rule.cron, rule.timeZone, now) : null;
}

async function withDetails(db: Executor, rows: ScheduleRuleRow[], now: Date): Promise<ScheduleRule[]> {
  if (rows.length === 0) return [];
  // Each rule's last execution: the last recorded, as the history orders them (a missed due time is recorded
  // when the scheduler comes back, after its due time).
  const last = await db
    .selectDistinctOn([scheduleExecutions.ruleId])
    .from(scheduleExecutions)
    .where(sql`${scheduleExecutions.ruleId} = any(${sql.param(rows.map((r) => r.id))}::text[])`)
    .orderBy(scheduleExecutions.ruleId, desc(scheduleExecutions.id));
  const byRule = new Map(last.map((execution) => [execution.ruleId, execution]));
  return rows.map((row) => ({
    ...row,
    description: describeCron(row.cron),
    upcoming: row.enabled ? nextRuns(row.cron, row.timeZone, now, 3) : [],
    lastExecution: byRule.get(row.id) ?? null,
  }));
}

/** An instance's rules, oldest first, with their words, next runs and last execution. */
export async function listRules(ctx: AccountContext, instanceId: string): Promise<ScheduleRule[]> {
  await getInstance(ctx, instanceId);
  const rows = await ctx.db
    .select()
    .from(scheduleRules)
    .where(and(eq(scheduleRules.accountId, ctx.accountId), eq(scheduleRules.instanceId, instanceId)))
    .orderBy(scheduleRules.createdAt, scheduleRules.id);
  return withDetails(ctx.db, rows, await databaseNow(ctx.db));
}

/** Adds rules to an instance in one transaction (a preset is a start and a stop rule together). */
export async function createRules(ctx: AccountContext, instanceId: string, inputs: RuleInput[]): Promise<ScheduleRule[]> {
  return withTransaction(ctx.db, async (tx) => {
    await getInstance({ ...ctx, db: tx }, instanceId, { lock: true });
    const now = await databaseNow(tx);
    const values = inputs.map((input, i) => {
      const cron = fieldOf(i, inputs.length, () => parseCron(input.cron));
      const timeZone = fieldOf(i, inputs.length, () => parseTimeZone(input.timeZone));
      const enabled = input.enabled ?? true;
      return {
        id: newId("scheduleRule"),
        accountId: ctx.accountId,
        instanceId,
        action: input.action,
        cron,
        timeZone,
        enabled,
        note: input.note ?? null,
        nextRunAt: nextRunFor({ cron, timeZone, enabled }, now),
        // Rules made together (a preset) list in the order given: created_at is what the list sorts by.
        createdAt: sql`now() + ${i} * interval '1 microsecond'`,
      };
    });
    const rows = await tx.insert(scheduleRules).values(values).returning();
    for (const row of rows) await recordAudit({ ...ctx, db: tx }, { kind: "schedule.rule_created", subjectId: row.id, changes: { after: auditedRule(row) } });
    return withDetails(tx, rows, now);
  });
}

/** With several rules, an error names which one: `rules.1.cron`. */
function fieldOf<T>(index: number, count: number, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (count > 1 && error instanceof InvalidInputError) throw new InvalidInputError(`Rule ${index + 1}: ${error.message}`, `rules.${index}.${error.field}`);
    throw error;
  }
}

async function getRule(ctx: AccountContext, ruleId: string, lock = false): Promise<ScheduleRuleRow> {
  const query = ctx.db
    .select()
    .from(scheduleRules)
    .where(and(eq(scheduleRules.id, ruleId), eq(scheduleRules.accountId, ctx.accountId)));
  const [row] = lock ? await query.for("update") : await query;
  if (!row) throw new NotFoundError("Schedule rule", ruleId);
  return row;
}

/** Changes a rule; its next run is computed again from now (re-enabling never fires a time that passed). */
export async function updateRule(ctx: AccountContext, ruleId: string, patch: Partial<RuleInput>): Promise<ScheduleRule> {
  return withTransaction(ctx.db, async (tx) => {
    const current = await getRule({ ...ctx, db: tx }, ruleId, true);
    const next = {
      action: patch.action ?? current.action,
      cron: patch.cron === undefined ? current.cron : parseCron(patch.cron),
      timeZone: patch.timeZone === undefined ? current.timeZone : parseTimeZone(patch.timeZone),
      enabled: patch.enabled ?? current.enabled,
      note: patch.note === undefined ? current.note : patch.note,
    };
    const now = await databaseNow(tx);
    const [row] = await tx
      .update(scheduleRules)
      .set({ ...next, nextRunAt: nextRunFor(next, now), updatedAt: sql`now()` })
      .where(eq(scheduleRules.id, ruleId))
      .returning();
    await recordAudit(
      { ...ctx, db: tx },
      { kind: "schedule.rule_updated", subjectId: ruleId, changes: { before: auditedRule(current), after: auditedRule(row!) } },
    );
    return (await withDetails(tx, [row!], now))[0]!;
  });
}

/** Deletes a rule; its executions stay in the instance's history. */
export async function deleteRule(ctx: AccountContext, ruleId: string): Promise<void> {
  await withTransaction(ctx.db, async (tx) => {
    const rule = await getRule({ ...ctx, db: tx }, ruleId, true);
    await tx.delete(scheduleRules).where(and(eq(scheduleRules.id, ruleId), eq(scheduleRules.accountId, ctx.accountId)));
    await recordAudit({ ...ctx, db: tx }, { kind: "schedule.rule_deleted", subjectId: ruleId, changes: { before: auditedRule(rule) } });
  });
}

/** A rule as the audit trail records it. */
function auditedRule(rule: ScheduleRuleRow) {
  return { instanceId: rule.instanceId, action: rule.action, cron: rule.cron, timeZone: rule.timeZone, enabled: rule.enabled, note: rule.note };
}

export interface HistoryPage {
  executions: ScheduleExecution[];
  nextCursor: string | null;
}

/** An instance's executions, newest first, kept after its rules (or the instance) are deleted; keyset pages on id. */
export async function scheduleHistory(ctx: AccountContext, instanceId: string, query: { limit: number; cursor?: string | null }): Promise<HistoryPage> {
  const before = query.cursor ? Number(query.cursor) : null;
  if (query.cursor && (!Number.isSafeInteger(before) || before! <= 0)) throw new InvalidInputError("This cursor is not one the history gave out.", "cursor");
  const rows = await ctx.db
    .select()
    .from(scheduleExecutions)
    .where(
      and(
        eq(scheduleExecutions.accountId, ctx.accountId),
        eq(scheduleExecutions.instanceId, instanceId),
        before ? sql`${scheduleExecutions.id} < ${before}` : undefined,
      ),
    )
    .orderBy(desc(scheduleExecutions.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  return { executions: page, nextCursor: rows.length > query.limit ? String(page.at(-1)!.id) : null };
}

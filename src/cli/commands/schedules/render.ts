import type { Outputs } from "../../client";
import { renderTable } from "../../output";

export type Rule = Outputs["schedules"]["list"][number];
export type Execution = Outputs["schedules"]["history"]["executions"][number];

/** This machine's zone: the default of `add --tz`, and the second clock beside a rule's own. */
export const machineZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

/** A rule as `qdz schedules … --json` shows it, in the snake_case of the other commands' JSON. */
export function ruleJson(rule: Rule) {
  return {
    id: rule.id,
    instance_id: rule.instanceId,
    action: rule.action,
    cron: rule.cron,
    time_zone: rule.timeZone,
    enabled: rule.enabled,
    note: rule.note,
    description: rule.description,
    /** Null while disabled, or when the expression never matches again. */
    next_run_at: rule.nextRunAt,
    upcoming: rule.upcoming,
    last_execution: rule.lastExecution && executionJson(rule.lastExecution),
    created_at: rule.createdAt,
    updated_at: rule.updatedAt,
  };
}

/** One due time of a rule and what came of it, with the rule's expression and zone as they were then. */
export function executionJson(execution: Execution) {
  return {
    id: execution.id,
    rule_id: execution.ruleId,
    instance_id: execution.instanceId,
    action: execution.action,
    cron: execution.cron,
    time_zone: execution.timeZone,
    due_at: execution.dueAt,
    executed_at: execution.executedAt,
    outcome: execution.outcome,
    detail: execution.detail,
  };
}

/** `Mon 2026-03-02 19:00 +01:00`: the weekday because rules name weekdays, the offset to tell a fall-back night's two 01:30s apart. */
export function zonedTime(at: Date, zone: string): string {
  const zoned = Temporal.Instant.fromEpochMilliseconds(at.getTime()).toZonedDateTimeISO(zone);
  const time = zoned.toPlainTime().toString({ smallestUnit: "minute" });
  return `${zoned.toLocaleString("en-US", { weekday: "short" })} ${zoned.toPlainDate()} ${time} ${zoned.offset}`;
}

/** A time in the rule's zone, and in this machine's beside it when that is another one. */
function bothClocks(at: Date, ruleZone: string, localZone: string): string {
  const own = zonedTime(at, ruleZone);
  return sameClock(ruleZone, localZone, at) ? own : `${own} (${zonedTime(at, localZone).replace(/ [+-]\d\d:\d\d$/, "")} ${localZone})`;
}

/** Two zone names can be one clock (UTC and Etc/UTC); only the offset at that instant tells. */
const sameClock = (a: string, b: string, at: Date) => a === b || zonedTime(at, a) === zonedTime(at, b);

/** One rule for people: what it does and when, in its zone, its next runs and its last execution. */
export function renderRule(rule: Rule, localZone: string): string {
  const next = !rule.enabled
    ? [`none: disabled (\`qdz schedules enable ${rule.id}\` turns it on)`]
    : rule.upcoming.length === 0
      ? ["none: the expression matches no later date"]
      : rule.upcoming.map((at) => bothClocks(at, rule.timeZone, localZone));
  const last = rule.lastExecution;
  const fields: [string, string[]][] = [
    ["when", [`${rule.description} (${rule.cron})`]],
    ["time zone", [rule.timeZone]],
    ["next runs", next],
    ["last run", [last ? `${last.outcome}, due ${zonedTime(last.dueAt, last.timeZone)}${last.detail ? `: ${last.detail}` : ""}` : "never"]],
  ];
  if (rule.note) fields.push(["note", [rule.note]]);
  const width = Math.max(...fields.map(([label]) => label.length)) + 1;
  const lines = fields.flatMap(([label, values]) => values.map((value, i) => `  ${(i === 0 ? `${label}:` : "").padEnd(width)}  ${value}`));
  return [`${rule.id}  ${rule.action}  ${rule.enabled ? "enabled" : "disabled"}`, ...lines].join("\n");
}

/** An instance's executions, newest first: the due time in the rule's zone, and how long after it the scheduler acted. */
export function renderExecutions(executions: Execution[]): string {
  return renderTable(
    ["due", "time zone", "rule", "action", "outcome", "executed", "detail"],
    executions.map((execution) => [
      zonedTime(execution.dueAt, execution.timeZone),
      execution.timeZone,
      execution.ruleId,
      execution.action,
      execution.outcome,
      `${lateness(execution.executedAt.getTime() - execution.dueAt.getTime())} after`,
      execution.detail ?? "",
    ]),
  );
}

function lateness(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

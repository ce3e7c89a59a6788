import type { Outputs } from "./trpc";

export type ScheduleRule = Outputs["schedules"]["list"][number];
export type ScheduleExecution = Outputs["schedules"]["history"]["executions"][number];
export type ScheduleAction = ScheduleRule["action"];
export type ScheduleOutcome = ScheduleExecution["outcome"];
export type RulePreview = Outputs["schedules"]["preview"];

/** A rule as the form edits it, before the api tidies and checks it. */
export interface RuleDraft {
  action: ScheduleAction;
  cron: string;
  timeZone: string;
  note: string;
}

export const actionStyles: Record<ScheduleAction, { label: string; badge: string; meaning: string }> = {
  start: {
    label: "start",
    badge: "badge-primary badge-soft",
    meaning: "Starts the instance if it is stopped, checking funds and budgets as a manual start does.",
  },
  stop: { label: "stop", badge: "badge-neutral badge-soft", meaning: "Stops the instance if it is running or booting; its billing is settled." },
};

export const outcomeStyles: Record<ScheduleOutcome, { badge: string; meaning: string }> = {
  succeeded: { badge: "badge-success badge-soft", meaning: "The instance was started or stopped." },
  skipped: { badge: "badge-ghost", meaning: "The instance was already where the rule wanted it." },
  failed: { badge: "badge-error badge-soft", meaning: "The action was refused; the detail says why." },
  // As the instance's `stopping` state: daisyUI's soft warning puts yellow text on cream.
  missed: {
    badge: "border-warning/40 bg-warning/15 text-warning-content",
    meaning: "The scheduler was down past the catch-up window: recorded, not fired late.",
  },
};

export interface Preset {
  id: string;
  label: string;
  summary: string;
  rules: { action: ScheduleAction; cron: string }[];
}

/** A start and a stop rule made together, in the viewer's zone. */
export const presets: Preset[] = [
  {
    id: "weekdays",
    label: "Weekdays 08:00–20:00",
    summary: "Starts at 08:00 and stops at 20:00, Monday to Friday.",
    rules: [
      { action: "start", cron: "0 8 * * 1-5" },
      { action: "stop", cron: "0 20 * * 1-5" },
    ],
  },
  {
    id: "nights",
    label: "Nights off",
    summary: "Stops at 22:00 and starts again at 07:00, every day.",
    rules: [
      { action: "stop", cron: "0 22 * * *" },
      { action: "start", cron: "0 7 * * *" },
    ],
  },
  {
    id: "weekends",
    label: "Weekends off",
    summary: "Stops on Friday at 20:00 and starts again on Monday at 08:00.",
    rules: [
      { action: "stop", cron: "0 20 * * 5" },
      { action: "start", cron: "0 8 * * 1" },
    ],
  },
];

/** Every IANA zone this browser knows, for the zone field's suggestions; older browsers suggest none. */
export function knownTimeZones(): string[] {
  return typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
}

// An Intl.DateTimeFormat is costly to build: one per zone and style, kept for the page's life.
const formats = new Map<string, Intl.DateTimeFormat>();

function formatIn(timeZone: string, style: "run" | "full"): Intl.DateTimeFormat {
  const key = `${style} ${timeZone}`;
  let format = formats.get(key);
  if (!format) {
    format =
      style === "run"
        ? new Intl.DateTimeFormat("en-GB", { timeZone, weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
        : new Intl.DateTimeFormat("en-IE", { timeZone, dateStyle: "medium", timeStyle: "short", hourCycle: "h23" });
    formats.set(key, format);
  }
  return format;
}

/** A coming run, as a wall clock in `timeZone` shows it: `Mon 7 Dec, 08:00`. */
export function formatRun(value: Date, timeZone: string): string {
  return formatIn(timeZone, "run").format(value);
}

/** A past due time with its year, in `timeZone`: `7 Dec 2026, 08:00`. */
export function formatDue(value: Date, timeZone: string): string {
  return formatIn(timeZone, "full").format(value);
}

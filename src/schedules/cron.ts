import { Cron } from "croner";
import cronstrue from "cronstrue";
import { InvalidInputError } from "../errors";
import { canonicalTimeZone } from "../usage/time-zone";

/**
 * Cron rules: parsed, described and stepped by croner (never by hand), with the platform's daylight-saving rule,
 * which is croner's own and is tested in tests/unit/schedule-cron.test.ts:
 * - a rule at a fixed time (one minute and one hour) fires once a day: at a local time that does not exist
 *   (a spring-forward gap) it fires at the first valid instant after it; at one that occurs twice (fall-back),
 *   at the first occurrence only;
 * - an interval rule (a step, range, list or `*` in the minute or hour) keeps its real-time spacing: it fires at
 *   every instant whose local time matches, so in a repeated hour twice, and in a skipped hour not at all.
 */

const NICKNAMES = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"] as const;

const FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "day of week", min: 0, max: 7 },
] as const;

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const refuse = (message: string) => new InvalidInputError(message, "cron");

/**
 * A 5-field expression or an `@daily`-style name, tidied (single spaces, names lower-cased); refused with the
 * field and why: "minute 61 is out of range (0–59)", "this rule never runs (31 February)".
 */
export function parseCron(input: string): string {
  const expression = input.trim().replace(/\s+/g, " ");
  if (expression === "") throw refuse("Give a cron expression: five fields (minute hour day-of-month month day-of-week), or @daily, @hourly, …");
  if (expression.startsWith("@")) {
    const name = expression.toLowerCase();
    if (!(NICKNAMES as readonly string[]).includes(name)) throw refuse(`'${expression}' is not a cron name; use one of ${NICKNAMES.join(", ")}.`);
    return name;
  }
  const fields = expression.split(" ");
  if (fields.length !== 5) {
    throw refuse(`A cron expression has five fields (minute hour day-of-month month day-of-week); '${expression}' has ${fields.length}.`);
  }
  for (const [i, field] of fields.entries()) checkField(field, FIELDS[i]!);
  let cron: Cron;
  try {
    cron = new Cron(expression, { paused: true });
  } catch (error) {
    throw refuse(`'${expression}' is not a valid cron expression: ${(error as Error).message.replace(/^CronPattern: /, "")}.`);
  }
  if (!cron.nextRun()) throw refuse(`'${expression}' never runs: no date matches its day of month and month.`);
  return expression;
}

/** Each value of a field within its range, in words people fix: "minute 61 is out of range (0–59)". */
function checkField(field: string, spec: (typeof FIELDS)[number]): void {
  for (const part of field.split(",")) {
    const [range, step] = part.split("/");
    if (step !== undefined && !/^\d+$/.test(step)) throw refuse(`The ${spec.name} step '/${step}' must be a whole number.`);
    if (step !== undefined && Number(step) === 0) throw refuse(`The ${spec.name} step must be at least 1.`);
    if (range === "*" || range === "?") continue;
    for (const value of (range ?? "").split("-")) {
      const named = spec.name === "month" ? MONTHS.indexOf(value.toUpperCase()) + 1 : spec.name === "day of week" ? DAYS.indexOf(value.toUpperCase()) : -1;
      if (named > 0 || (named === 0 && spec.name === "day of week")) continue;
      if (!/^\d+$/.test(value)) throw refuse(`'${value}' is not a valid ${spec.name}.`);
      const n = Number(value);
      if (n < spec.min || n > spec.max) throw refuse(`${spec.name[0]!.toUpperCase()}${spec.name.slice(1)} ${n} is out of range (${spec.min}–${spec.max}).`);
    }
  }
}

/** An IANA zone, canonicalised; a misspelt one is refused with the nearest real name ("did you mean Europe/Berlin?"). */
export function parseTimeZone(input: string): string {
  const zone = canonicalTimeZone(input.trim());
  if (zone) return zone;
  const suggestion = nearestZone(input.trim());
  throw new InvalidInputError(
    `${input} is not a time zone${suggestion ? `; did you mean ${suggestion}?` : " (use an IANA name such as Europe/Berlin)."}`,
    "timeZone",
  );
}

function nearestZone(input: string): string | null {
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  const needle = input.toLowerCase().slice(0, 64);
  for (const zone of Intl.supportedValuesOf("timeZone")) {
    const distance = editDistance(needle, zone.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [zone, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(needle.length / 4)) ? best : null;
}

/** Levenshtein distance, two rows at a time: zone names are short. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * Parsed patterns by expression and zone: parsing is half the cost of a next run, and a scheduler's batch
 * repeats a few patterns many times. Bounded: emptied when it holds more than it should.
 */
const patterns = new Map<string, Cron>();
const MAX_PATTERNS = 10_000;

function pattern(cron: string, timeZone: string): Cron {
  const key = `${timeZone} ${cron}`;
  let parsed = patterns.get(key);
  if (!parsed) {
    if (patterns.size >= MAX_PATTERNS) patterns.clear();
    parsed = new Cron(cron, { timezone: timeZone, paused: true });
    patterns.set(key, parsed);
  }
  return parsed;
}

/** The next `count` times (UTC instants) the rule is due strictly after `after`. */
export function nextRuns(cron: string, timeZone: string, after: Date, count: number): Date[] {
  return pattern(cron, timeZone).nextRuns(count, after);
}

/** The next time the rule is due strictly after `after`; null if it never is again. */
export function nextRun(cron: string, timeZone: string, after: Date): Date | null {
  return pattern(cron, timeZone).nextRun(after);
}

/** "At 08:00 AM, Monday through Friday": the rule in words (cronstrue), 24-hour clock. */
export function describeCron(cron: string): string {
  const expression = cron.startsWith("@") ? (NICKNAME_EXPRESSIONS[cron] ?? cron) : cron;
  return cronstrue.toString(expression, { use24HourTimeFormat: true, verbose: false });
}

const NICKNAME_EXPRESSIONS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

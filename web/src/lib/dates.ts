/**
 * A Date from a column (superjson keeps them Dates on the wire), or an ISO
 * string stored inside a JSON column: a pricing snapshot's `lockedAt`, boot
 * progress's `at`.
 */
export type DateLike = Date | string;

const absolute = new Intl.DateTimeFormat("en-IE", { dateStyle: "medium", timeStyle: "short" });
const day = new Intl.DateTimeFormat("en-IE", { dateStyle: "medium" });
const utcDay = new Intl.DateTimeFormat("en-IE", { dateStyle: "medium", timeZone: "UTC" });
const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86_400],
  ["month", 30 * 86_400],
  ["day", 86_400],
  ["hour", 3_600],
  ["minute", 60],
];

export function toDate(value: DateLike): Date {
  return value instanceof Date ? value : new Date(value);
}

/** "24 Nov 2025, 14:03": for tooltips, where the exact time matters. */
export function formatDateTime(value: DateLike): string {
  return absolute.format(toDate(value));
}

/** "1 Jan 2026" on the UTC calendar: a budget's month is a UTC month, so it resets on the same date for everyone. */
export function formatUtcDay(value: DateLike): string {
  return utcDay.format(toDate(value));
}

/**
 * "just now", "5 minutes ago", "in 7 days" (days rather than "next week",
 * which is vague about an expiry); past a month, the date itself
 * ("24 Nov 2025"), which reads better than "3 months ago" in a table.
 */
export function formatRelative(value: DateLike, now: number = Date.now()): string {
  const date = toDate(value);
  const seconds = Math.round((date.getTime() - now) / 1000);
  if (Math.abs(seconds) < 45) return "just now";
  if (Math.abs(seconds) >= 30 * 86_400) return day.format(date);
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return relative.format(Math.round(seconds / 60) || (seconds < 0 ? -1 : 1), "minute");
}

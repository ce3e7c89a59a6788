// The ranges come from the usage contract itself, so the switcher offers exactly what the api answers.
import { type UsageBucket, type UsageRange, usageRanges } from "../../../src/usage/types";

// Type-only: the shapes the usage queries answer (src/usage/types.ts), never their code.
export type {
  AccountUsage,
  AccountUsageBucket,
  InstanceCost,
  InstanceResources,
  InstanceUsage,
  ResourceSeries,
  ResourceSignal,
  UsageBucket,
  UsageCards,
  UsageRange,
} from "../../../src/usage/types";
export { usageRanges };

export const rangeLabels: Record<UsageRange, { short: string; long: string }> = {
  "24h": { short: "24h", long: "the last 24 hours" },
  "7d": { short: "7d", long: "the last 7 days" },
  "30d": { short: "30d", long: "the last 30 days" },
  "90d": { short: "90d", long: "the last 90 days" },
};

/** `?range=` read leniently: anything else is the page's default. */
export function rangeFrom(value: string | null, fallback: UsageRange): UsageRange {
  return usageRanges.find((range) => range === value) ?? fallback;
}

/** The viewer's IANA zone (`Europe/Paris`): buckets are laid out in it, so "a day" is the viewer's day. */
export function viewerTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

const grouped = new Intl.NumberFormat("en-IE");

/** Exact billable time, as metering counts it: `4980` → `1 h 23 min`, `45` → `45 s`, `3725` → `1 h 2 min 5 s`. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return "0 s";
  const h = Math.floor(seconds / 3600);
  const min = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const parts = [h > 0 ? `${grouped.format(h)} h` : "", min > 0 ? `${min} min` : "", s > 0 ? `${s} s` : ""];
  return parts.filter(Boolean).join(" ");
}

/** Billable time to the minute, for cards and axes where seconds are noise: `4985` → `1 h 23 min`. */
export function formatHoursMinutes(seconds: number): string {
  if (seconds > 0 && seconds < 60) return "< 1 min";
  const minutes = Math.floor(seconds / 60);
  const h = Math.floor(minutes / 60);
  const min = minutes % 60;
  if (h === 0) return `${min} min`;
  return min === 0 ? `${grouped.format(h)} h` : `${grouped.format(h)} h ${min} min`;
}

export function formatSeconds(seconds: number): string {
  return `${grouped.format(seconds)} s`;
}

/** Formatters for one zone, made once per zone (an `Intl.DateTimeFormat` is costly to build). */
export function bucketFormats(timeZone: string) {
  const hour = new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const day = new Intl.DateTimeFormat("en-GB", { timeZone, day: "numeric", month: "short" });
  const weekday = new Intl.DateTimeFormat("en-GB", { timeZone, weekday: "short", day: "numeric", month: "short" });
  const fullDay = new Intl.DateTimeFormat("en-GB", { timeZone, weekday: "short", day: "numeric", month: "short", year: "numeric" });
  const isMidnight = (iso: string) => hour.format(new Date(iso)) === "00:00";
  return {
    /** An axis tick: `14:00` for an hour (its date at midnight), `3 Dec` for a day. */
    tick(bucket: Pick<UsageBucket, "start" | "granularity">): string {
      const start = new Date(bucket.start);
      return bucket.granularity === "day" || isMidnight(bucket.start) ? day.format(start) : hour.format(start);
    },
    /** A bucket in full, for tooltips and tables: `Wed 3 Dec, 14:00–15:00`, or `Wed 3 Dec 2025`. */
    span(bucket: Pick<UsageBucket, "start" | "end" | "granularity">): string {
      if (bucket.granularity === "day") return fullDay.format(new Date(bucket.start));
      return `${weekday.format(new Date(bucket.start))}, ${hour.format(new Date(bucket.start))}–${hour.format(new Date(bucket.end))}`;
    },
    /** A time of the resource charts: `14:05`. */
    time(value: Date): string {
      return hour.format(value);
    },
    /** `Wed 3 Dec, 14:05`. */
    moment(value: Date): string {
      return `${weekday.format(value)}, ${hour.format(value)}`;
    },
  };
}

/** What the partial bucket is, in words: "this hour" or "today". */
export function partialWording(bucket: Pick<UsageBucket, "granularity">): string {
  return bucket.granularity === "hour" ? "This hour is still filling." : "Today is still filling.";
}

/** The sums of a range's buckets, which the ledger must match to the cent. */
export function bucketTotals(buckets: UsageBucket[]) {
  let costCents = 0;
  let billableSeconds = 0;
  let refundedCents = 0;
  for (const bucket of buckets) {
    costCents += bucket.costCents;
    billableSeconds += bucket.billableSeconds;
    refundedCents += bucket.refundedCents;
  }
  return { costCents, billableSeconds, refundedCents };
}

/** The first day of the viewer's current month, for the month-to-date card: `1 Dec`. */
export function monthStartLabel(timeZone: string, now = new Date()): string {
  const month = new Intl.DateTimeFormat("en-GB", { timeZone, month: "short" }).format(now);
  return `1 ${month}`;
}

/** "per hour", "per day", or both for the 7-day range. */
export function granularityWording(buckets: Pick<UsageBucket, "granularity">[]): string {
  const hourly = buckets.some((b) => b.granularity === "hour");
  const daily = buckets.some((b) => b.granularity === "day");
  return hourly && daily ? "per hour, then per day" : daily ? "per day" : "per hour";
}

/**
 * Colours of the account chart's stacks, one per top instance, told apart on the light theme and
 * from the refunds' green; "other" is grey, so it never reads as an instance of its own.
 */
export const stackColors = [
  "var(--color-primary)",
  "oklch(66% 0.14 230)",
  "oklch(72% 0.16 60)",
  "oklch(58% 0.2 340)",
  "oklch(50% 0.13 255)",
  "oklch(80% 0.14 95)",
  "oklch(52% 0.16 305)",
  "oklch(63% 0.19 28)",
  "oklch(46% 0.07 210)",
  "oklch(55% 0.08 55)",
];
export const otherColor = "oklch(74% 0.012 264)";

const durationSteps = [60, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 432_000, 864_000];

/** Ticks of a time axis on round durations (15 min, 1 h, 6 h…), about `count` of them from 0 up past `maxSeconds`. */
export function durationTicks(maxSeconds: number, count = 4): number[] {
  const step = durationSteps.find((s) => maxSeconds / s <= count) ?? Math.ceil(maxSeconds / count / 86_400) * 86_400;
  const top = Math.max(step, Math.ceil(maxSeconds / step) * step);
  return Array.from({ length: top / step + 1 }, (_, i) => i * step);
}

import type { UsageRange } from "./types";

/**
 * Where a range's buckets start and end, in the viewer's IANA zone: a pure rule over the range, the zone and
 * now, with no I/O. The rollups' grain is the UTC hour, so every boundary is an instant on a UTC hour:
 *
 * - An hourly bucket is one UTC hour. Across a DST change hours stay real hours (the fall-back night shows
 *   02:00 twice, the spring-forward night skips it). In a zone a whole number of hours from UTC, which is
 *   nearly every zone, it is also a local clock hour; in Asia/Kolkata (+05:30) it reads 10:30–11:30.
 * - A daily bucket is one local day, midnight to midnight, so a 23- or 25-hour day is one bucket. Where local
 *   midnight falls inside a UTC hour (+05:30, +05:45, Lord Howe's +10:30), the boundary is rounded up to the
 *   next UTC hour: each UTC hour belongs to the local day its start falls in, and Kolkata's days run
 *   00:30–00:30 local. Buckets stay contiguous, so every hour is counted once and a range adds up exactly.
 *
 * The ranges, as the spec's Observability table and the Compute document's "Usage tracking" word them:
 * - 24h: "last 24 hours with hourly buckets": the 24 UTC hours ending with the current one.
 * - 7d: "last 7 days with hourly buckets for the first day, daily for the rest": seven local days ending with
 *   today; read in time order, as the spec's "hourly for the first day, then daily" puts it, the first day is
 *   the oldest: its hours (23, 24 or 25 of them), then one bucket per day for the six days after it.
 * - 30d and 90d: daily buckets, 30 or 90 local days ending with today.
 *
 * A bucket is partial while it can still grow: its end is after the start of the current UTC hour (the tick
 * now dates its entries in that hour). That is the bucket holding now, and for the first half hour of a
 * Kolkata day also the day before, which still gets the UTC hour that began before midnight.
 */
export interface BucketSlot {
  start: Date;
  end: Date;
  granularity: "hour" | "day";
}

export interface UsageLayout {
  slots: BucketSlot[];
  /** The range: the first slot's start to the last slot's end. */
  from: Date;
  to: Date;
  /** The start of the viewer's current month (rounded up to the UTC hour, as day boundaries are). */
  monthStart: Date;
  /** The local days the range covers, for the average daily cost; 24h counts as one day, its own window. */
  days: { start: Date; end: Date }[];
  /** The current UTC hour's start: slots ending after it are partial. */
  currentHour: Date;
}

const HOUR_MS = 3_600_000;
const DAYS: Record<Exclude<UsageRange, "24h">, number> = { "7d": 7, "30d": 30, "90d": 90 };

const ceilHour = (ms: number) => new Date(Math.ceil(ms / HOUR_MS) * HOUR_MS);
const floorHour = (ms: number) => new Date(Math.floor(ms / HOUR_MS) * HOUR_MS);

/** `timeZone` must be canonical already (src/usage/time-zone.ts). */
export function layoutBuckets(range: UsageRange, timeZone: string, now: Date): UsageLayout {
  const currentHour = floorHour(now.getTime());
  const today = Temporal.Instant.fromEpochMilliseconds(now.getTime()).toZonedDateTimeISO(timeZone).toPlainDate();
  // A local date's first instant (its real start when midnight is skipped), rounded up to the UTC hour.
  const dayStart = (date: Temporal.PlainDate) => ceilHour(date.toZonedDateTime(timeZone).epochMilliseconds);
  const monthStart = dayStart(today.with({ day: 1 }));

  if (range === "24h") {
    const slots = Array.from({ length: 24 }, (_, i) => hourSlot(currentHour.getTime() - (23 - i) * HOUR_MS));
    return layout(slots, monthStart, currentHour, [{ start: slots[0]!.start, end: slots[23]!.end }]);
  }

  const count = DAYS[range];
  // Newest first, from tomorrow's start back: a date the zone skipped (Samoa's 30 December 2011) starts where the
  // next one does, so it is passed over, and the range is `count` days that happened.
  const bounds: Date[] = [];
  for (let offset = 1; bounds.length < count + 1; offset--) {
    const start = dayStart(today.add({ days: offset }));
    if (bounds.length === 0 || start < bounds[0]!) bounds.unshift(start);
  }
  const days = bounds.slice(0, -1).map((start, i) => ({ start, end: bounds[i + 1]! }));
  const slots: BucketSlot[] = days.map((day) => ({ ...day, granularity: "day" }));
  if (range === "7d") {
    const first = days[0]!;
    const hours = (first.end.getTime() - first.start.getTime()) / HOUR_MS;
    slots.splice(0, 1, ...Array.from({ length: hours }, (_, i) => hourSlot(first.start.getTime() + i * HOUR_MS)));
  }
  return layout(slots, monthStart, currentHour, days);
}

function hourSlot(startMs: number): BucketSlot {
  return { start: new Date(startMs), end: new Date(startMs + HOUR_MS), granularity: "hour" };
}

function layout(slots: BucketSlot[], monthStart: Date, currentHour: Date, days: UsageLayout["days"]): UsageLayout {
  return { slots, from: slots[0]!.start, to: slots.at(-1)!.end, monthStart, days, currentHour };
}

/** Partial: the slot can still grow (see the rule above). */
export const isPartial = (slot: BucketSlot, layout: UsageLayout) => slot.end > layout.currentHour;

/**
 * The days the average daily cost is over: those of the range that end after the subject (an instance, an
 * account) was created. Today counts from its first hour, as the range's own last bucket does.
 */
export function daysExisted(layout: UsageLayout, createdAt: Date): number {
  return layout.days.filter((day) => day.end > createdAt).length;
}

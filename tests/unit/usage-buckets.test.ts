import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { daysExisted, isPartial, layoutBuckets, type UsageLayout } from "../../src/usage/buckets";
import { canonicalTimeZone, requireTimeZone } from "../../src/usage/time-zone";
import { usageRanges } from "../../src/usage/types";

const HOUR = 3_600_000;
const hours = (slot: { start: Date; end: Date }) => (slot.end.getTime() - slot.start.getTime()) / HOUR;
const local = (date: Date, zone: string) => Temporal.Instant.fromEpochMilliseconds(date.getTime()).toZonedDateTimeISO(zone).toPlainDateTime().toString();
const kinds = (layout: UsageLayout) => layout.slots.map((slot) => slot.granularity[0]).join("");
const partials = (layout: UsageLayout) => layout.slots.filter((slot) => isPartial(slot, layout));

describe("24h", () => {
  test("the 24 UTC hours ending with the current one, the current one partial", () => {
    const layout = layoutBuckets("24h", "UTC", new Date("2026-06-10T14:25:00Z"));
    expect(layout.slots).toHaveLength(24);
    expect(layout.from.toISOString()).toBe("2026-06-09T15:00:00.000Z");
    expect(layout.to.toISOString()).toBe("2026-06-10T15:00:00.000Z");
    expect(layout.slots.every((slot) => slot.granularity === "hour" && hours(slot) === 1)).toBe(true);
    expect(partials(layout)).toEqual([layout.slots[23]!]);
    expect(layout.days).toEqual([{ start: layout.from, end: layout.to }]);
  });

  test("across Berlin's fall-back night: 24 real hours, 02:00 local twice", () => {
    const layout = layoutBuckets("24h", "Europe/Berlin", new Date("2026-10-25T12:10:00Z"));
    expect(layout.slots).toHaveLength(24);
    const labels = layout.slots.map((slot) => local(slot.start, "Europe/Berlin").slice(11, 16));
    expect(labels.filter((label) => label === "02:00")).toHaveLength(2);
    expect(labels.slice(-1)).toEqual(["13:00"]);
  });

  test("in Asia/Kolkata the hours are UTC hours, reading :30 locally", () => {
    const layout = layoutBuckets("24h", "Asia/Kolkata", new Date("2026-06-10T10:45:00Z"));
    expect(layout.slots.at(-1)!.start.toISOString()).toBe("2026-06-10T10:00:00.000Z");
    expect(local(layout.slots.at(-1)!.start, "Asia/Kolkata")).toBe("2026-06-10T15:30:00");
  });
});

describe("7d: the first (oldest) day hourly, then daily", () => {
  test("a plain week in UTC: 24 hours, then six days, today partial", () => {
    const layout = layoutBuckets("7d", "UTC", new Date("2026-06-10T14:25:00Z"));
    expect(kinds(layout)).toBe(`${"h".repeat(24)}${"d".repeat(6)}`);
    expect(layout.from.toISOString()).toBe("2026-06-04T00:00:00.000Z");
    expect(layout.slots[24]!.start.toISOString()).toBe("2026-06-05T00:00:00.000Z");
    expect(layout.to.toISOString()).toBe("2026-06-11T00:00:00.000Z");
    expect(partials(layout)).toEqual([layout.slots.at(-1)!]);
    expect(layout.days).toHaveLength(7);
  });

  test("Berlin, the first day is the spring-forward day: 23 hourly buckets", () => {
    const layout = layoutBuckets("7d", "Europe/Berlin", new Date("2026-04-04T10:00:00Z"));
    expect(kinds(layout)).toBe(`${"h".repeat(23)}${"d".repeat(6)}`);
    expect(layout.from.toISOString()).toBe("2026-03-28T23:00:00.000Z"); // Sunday 29 March, 00:00 CET
    expect(layout.slots[23]!.start.toISOString()).toBe("2026-03-29T22:00:00.000Z"); // Monday, 00:00 CEST
    const labels = layout.slots.slice(0, 23).map((slot) => local(slot.start, "Europe/Berlin").slice(11, 16));
    expect(labels).not.toContain("02:00");
  });

  test("Berlin, the first day is the fall-back day: 25 hourly buckets", () => {
    const layout = layoutBuckets("7d", "Europe/Berlin", new Date("2026-10-31T10:00:00Z"));
    expect(kinds(layout)).toBe(`${"h".repeat(25)}${"d".repeat(6)}`);
    expect(layout.from.toISOString()).toBe("2026-10-24T22:00:00.000Z");
  });

  test("Berlin, the change inside the daily part: one 23-hour bucket", () => {
    const layout = layoutBuckets("7d", "Europe/Berlin", new Date("2026-04-01T10:00:00Z"));
    const days = layout.slots.filter((slot) => slot.granularity === "day");
    expect(days.map((day) => local(day.start, "Europe/Berlin").slice(0, 10))).toEqual([
      "2026-03-27",
      "2026-03-28",
      "2026-03-29",
      "2026-03-30",
      "2026-03-31",
      "2026-04-01",
    ]);
    expect(days.map(hours)).toEqual([24, 24, 23, 24, 24, 24]);
  });
});

describe("30d and 90d: local days", () => {
  test("30 days in New York across the November change, one of them 25 hours long", () => {
    const layout = layoutBuckets("30d", "America/New_York", new Date("2026-11-20T15:00:00Z"));
    expect(layout.slots).toHaveLength(30);
    expect(layout.slots.map(hours).filter((h) => h !== 24)).toEqual([25]);
    expect(local(layout.from, "America/New_York")).toBe("2026-10-22T00:00:00");
    expect(layout.monthStart.toISOString()).toBe("2026-11-01T04:00:00.000Z");
  });

  test("90 days end with today; the month starts at local midnight", () => {
    const layout = layoutBuckets("90d", "Europe/Berlin", new Date("2026-04-01T10:00:00Z"));
    expect(layout.slots).toHaveLength(90);
    expect(layout.slots.at(-1)!.start.toISOString()).toBe("2026-03-31T22:00:00.000Z");
    expect(layout.monthStart.toISOString()).toBe("2026-03-31T22:00:00.000Z");
    expect(layout.slots.map(hours).filter((h) => h !== 24)).toEqual([23]);
  });

  test("a day that starts at 01:00 (Santiago skips midnight): the day from 01:00, 23 hours", () => {
    const layout = layoutBuckets("7d", "America/Santiago", new Date("2026-09-10T15:00:00Z"));
    const day = layout.slots.find((slot) => slot.granularity === "day" && local(slot.start, "America/Santiago").startsWith("2026-09-06"))!;
    expect(local(day.start, "America/Santiago")).toBe("2026-09-06T01:00:00");
    expect(hours(day)).toBe(23);
  });
});

describe("zones a fraction of an hour from UTC", () => {
  test("Kolkata's days start at 00:30 local: each UTC hour belongs to the day its start falls in", () => {
    const layout = layoutBuckets("30d", "Asia/Kolkata", new Date("2026-06-10T10:45:00Z"));
    const today = layout.slots.at(-1)!;
    // Local midnight is 18:30 UTC; the hour 18:00–19:00 UTC starts at 23:30 local, so it is the day before's.
    expect(today.start.toISOString()).toBe("2026-06-09T19:00:00.000Z");
    expect(local(today.start, "Asia/Kolkata")).toBe("2026-06-10T00:30:00");
    expect(layout.slots.every((slot) => hours(slot) === 24)).toBe(true);
  });

  test("for the first half hour of a Kolkata day, yesterday is still partial: it gets the UTC hour begun before midnight", () => {
    const layout = layoutBuckets("7d", "Asia/Kolkata", new Date("2026-06-10T18:40:00Z")); // 00:10 on the 11th, local
    expect(partials(layout).map((slot) => local(slot.start, "Asia/Kolkata"))).toEqual(["2026-06-10T00:30:00", "2026-06-11T00:30:00"]);
    const later = layoutBuckets("7d", "Asia/Kolkata", new Date("2026-06-10T19:05:00Z"));
    expect(partials(later)).toEqual([later.slots.at(-1)!]);
  });

  test("a date the zone skipped is passed over: Samoa went from 29 to 31 December 2011, and 30d is 30 days that happened", () => {
    // 1 January 2012, 00:00 in Apia (UTC+14).
    const layout = layoutBuckets("30d", "Pacific/Apia", new Date("2011-12-31T10:00:00Z"));
    expect(layout.days).toHaveLength(30);
    expect(layout.days.every((day) => day.end > day.start)).toBe(true);
    const dates = layout.days.map((day) =>
      Temporal.Instant.fromEpochMilliseconds(day.start.getTime()).toZonedDateTimeISO("Pacific/Apia").toPlainDate().toString(),
    );
    expect(dates.slice(-3)).toEqual(["2011-12-29", "2011-12-31", "2012-01-01"]);
  });

  test("Lord Howe's half-hour DST: its days are 23.5 or 24.5 hours, rounded to whole UTC hours", () => {
    const layout = layoutBuckets("90d", "Australia/Lord_Howe", new Date("2026-05-01T00:00:00Z"));
    expect(layout.slots.every((slot) => slot.start.getTime() % HOUR === 0)).toBe(true);
    expect(layout.slots.map(hours).reduce((a, b) => a + b, 0)).toBe(hours({ start: layout.from, end: layout.to }));
  });
});

describe("any zone, any moment (property)", () => {
  const zones = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Chatham",
    "Pacific/Apia",
  ];
  test("slots are contiguous whole UTC hours covering now; days are local days; 7d's first day is all its hours", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.constantFrom(...usageRanges),
        fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2040-01-01T00:00:00Z"), noInvalidDate: true }),
        (zone, range, now) => {
          const layout = layoutBuckets(range, zone, now);
          const { slots } = layout;
          for (const [i, slot] of slots.entries()) {
            expect(slot.start.getTime() % HOUR).toBe(0);
            expect(slot.end > slot.start).toBe(true);
            if (i > 0) expect(slot.start.getTime()).toBe(slots[i - 1]!.end.getTime());
            if (slot.granularity === "hour") expect(hours(slot)).toBe(1);
          }
          // The hour the tick is writing now is in the range, and the last slot is partial. (Now itself may be in
          // the last half hour of the day before: Kolkata's today starts at 19:00 UTC, its midnight at 18:30.)
          expect(layout.from <= layout.currentHour && layout.currentHour < layout.to).toBe(true);
          expect(now < layout.to).toBe(true);
          expect(isPartial(slots.at(-1)!, layout)).toBe(true);
          if (range === "24h") return;
          const days = Number(range.replace("d", ""));
          expect(layout.days).toHaveLength(days);
          // A local day boundary is the local midnight (or the day's real start), rounded up to the UTC hour.
          for (const day of layout.days) {
            const start = Temporal.Instant.fromEpochMilliseconds(day.start.getTime()).toZonedDateTimeISO(zone);
            const midnight = start.startOfDay().epochMilliseconds;
            expect(day.start.getTime() - midnight).toBeGreaterThanOrEqual(0);
            expect(day.start.getTime() - midnight).toBeLessThan(HOUR);
          }
          const firstDayHours = hours(layout.days[0]!);
          expect(slots.filter((slot) => slot.granularity === "hour")).toHaveLength(range === "7d" ? firstDayHours : 0);
          expect(slots.filter((slot) => slot.granularity === "day")).toHaveLength(range === "7d" ? 6 : days);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("days the subject existed", () => {
  test("an instance created on the third day of a 7d range counts five days, today included", () => {
    const layout = layoutBuckets("7d", "UTC", new Date("2026-06-10T14:25:00Z"));
    expect(daysExisted(layout, new Date("2026-06-06T23:59:00Z"))).toBe(5);
    expect(daysExisted(layout, new Date("2020-01-01T00:00:00Z"))).toBe(7);
    expect(daysExisted(layout, new Date("2026-06-10T14:00:00Z"))).toBe(1);
    expect(daysExisted(layoutBuckets("24h", "UTC", new Date("2026-06-10T14:25:00Z")), new Date("2026-06-10T14:00:00Z"))).toBe(1);
  });
});

describe("time zones", () => {
  test("IANA names are canonicalised; offsets, abbreviations of nothing and junk are refused, naming the field", () => {
    expect(canonicalTimeZone("europe/berlin")).toBe("Europe/Berlin");
    expect(canonicalTimeZone("UTC")).toBe("UTC");
    expect(canonicalTimeZone("America/Argentina/Buenos_Aires")).toBe("America/Argentina/Buenos_Aires");
    for (const bad of ["+05:30", "Mars/Base", "", "Europe/Berlin ", "UTC+1", "../etc/passwd"]) expect(canonicalTimeZone(bad)).toBeNull();
    expect(() => requireTimeZone("Mars/Base")).toThrow(expect.objectContaining({ code: "INVALID_INPUT", field: "timeZone" }));
  });
});

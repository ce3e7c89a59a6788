import { describe, expect, test } from "bun:test";
import { describeCron, nextRuns, parseCron, parseTimeZone } from "../../src/schedules/cron";

/** The instants the rule is due in [from, to), as ISO strings. */
function dueBetween(cron: string, zone: string, from: string, to: string): string[] {
  return nextRuns(cron, zone, new Date(from), 50)
    .filter((d) => d < new Date(to))
    .map((d) => d.toISOString());
}

describe("daylight saving: fixed times fire once, interval rules keep real-time spacing", () => {
  test("Europe/Berlin, spring forward (29 March 2026, 02:00 → 03:00): 02:30 fires once, at 03:00 CEST", () => {
    expect(dueBetween("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-30T12:00:00Z")).toEqual([
      "2026-03-29T01:00:00.000Z",
      "2026-03-30T00:30:00.000Z",
    ]);
  });

  test("Europe/Berlin, fall back (25 October 2026, 03:00 → 02:00): 02:30 fires once, at its first occurrence (CEST)", () => {
    expect(dueBetween("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", "2026-10-26T12:00:00Z")).toEqual([
      "2026-10-25T00:30:00.000Z",
      "2026-10-26T01:30:00.000Z",
    ]);
  });

  test("America/New_York: 02:30 on the spring-forward day runs at 03:00 EDT; 01:30 on the fall-back day once", () => {
    expect(dueBetween("30 2 * * *", "America/New_York", "2026-03-08T00:00:00Z", "2026-03-09T00:00:00Z")).toEqual(["2026-03-08T07:00:00.000Z"]);
    expect(dueBetween("30 1 * * *", "America/New_York", "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z")).toEqual(["2026-11-01T05:30:00.000Z"]);
  });

  test("an interval rule in the repeated hour fires in both, 30 minutes apart in real time", () => {
    expect(dueBetween("*/30 1 * * *", "America/New_York", "2026-11-01T04:00:00Z", "2026-11-01T08:00:00Z")).toEqual([
      "2026-11-01T05:00:00.000Z",
      "2026-11-01T05:30:00.000Z",
      "2026-11-01T06:00:00.000Z",
      "2026-11-01T06:30:00.000Z",
    ]);
  });

  test("an interval rule in the skipped hour does not fire that day (there is no such real time)", () => {
    expect(dueBetween("*/30 2 * * *", "Europe/Berlin", "2026-03-28T23:00:00Z", "2026-03-29T23:00:00Z")).toEqual([]);
  });

  test("Australia/Lord_Howe's 30-minute shift: 02:00 on the spring-forward day fires at 02:30; 01:45 on the fall-back day once", () => {
    // 4 October 2026: 02:00 (+10:30) becomes 02:30 (+11:00).
    expect(dueBetween("0 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00Z", "2026-10-04T12:00:00Z")).toEqual(["2026-10-03T15:30:00.000Z"]);
    // 4 April 2027: 02:00 (+11:00) becomes 01:30 (+10:30), so 01:30–02:00 happens twice; 01:45 fires at the first (+11:00).
    expect(dueBetween("45 1 * * *", "Australia/Lord_Howe", "2027-04-03T12:00:00Z", "2027-04-04T12:00:00Z")).toEqual(["2027-04-03T14:45:00.000Z"]);
  });
});

describe("calendars", () => {
  test("leap days: 29 February runs only in leap years", () => {
    expect(nextRuns("0 12 29 2 *", "UTC", new Date("2026-12-03T00:00:00Z"), 2).map((d) => d.toISOString())).toEqual([
      "2028-02-29T12:00:00.000Z",
      "2032-02-29T12:00:00.000Z",
    ]);
  });

  test("month ends: the 31st skips the months without one", () => {
    expect(nextRuns("0 0 31 * *", "UTC", new Date("2026-04-01T00:00:00Z"), 3).map((d) => d.toISOString())).toEqual([
      "2026-05-31T00:00:00.000Z",
      "2026-07-31T00:00:00.000Z",
      "2026-08-31T00:00:00.000Z",
    ]);
  });

  test("@yearly is local midnight on 1 January in the rule's zone", () => {
    expect(nextRuns("@yearly", "Europe/Berlin", new Date("2026-12-03T00:00:00Z"), 1).map((d) => d.toISOString())).toEqual(["2026-12-31T23:00:00.000Z"]);
    expect(describeCron("@yearly")).toBe("At 00:00, on day 1 of the month, only in January");
  });
});

describe("parsing: the error names the field and why", () => {
  test.each([
    ["61 * * * *", "Minute 61 is out of range (0–59)."],
    ["0 24 * * *", "Hour 24 is out of range (0–23)."],
    ["0 8 * 13 *", "Month 13 is out of range (1–12)."],
    ["* * * *", "A cron expression has five fields (minute hour day-of-month month day-of-week); '* * * *' has 4."],
    ["0 0 31 2 *", "'0 0 31 2 *' never runs: no date matches its day of month and month."],
    ["*/0 * * * *", "The minute step must be at least 1."],
    ["@sometimes", "'@sometimes' is not a cron name; use one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly."],
  ])("%s", (cron, message) => {
    expect(() => parseCron(cron)).toThrow(message);
  });

  test("expressions are tidied; names of months and days are accepted", () => {
    expect(parseCron("  0   8 * *  MON-FRI ")).toBe("0 8 * * MON-FRI");
    expect(parseCron("@Daily")).toBe("@daily");
    expect(describeCron("0 8 * * 1-5")).toBe("At 08:00, Monday through Friday");
  });

  test("a misspelt zone gets the nearest real one; a made-up one gets an example", () => {
    expect(() => parseTimeZone("Europe/Berln")).toThrow("Europe/Berln is not a time zone; did you mean Europe/Berlin?");
    expect(() => parseTimeZone("Mars/Olympus")).toThrow("Mars/Olympus is not a time zone (use an IANA name such as Europe/Berlin).");
    expect(parseTimeZone("america/new_york")).toBe("America/New_York");
  });
});

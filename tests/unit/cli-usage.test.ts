import { describe, expect, test } from "bun:test";
import { type AccountUsageResult, bucketLabel, formatDuration, type InstanceUsageResult, renderUsage, zoneOption } from "../../src/cli/commands/usage";
import { usageJson } from "../../src/usage/json";

const cards = { monthToDateCents: 240, averageDailyCents: 249, daysCounted: 7, activeSeconds: 5400, refundedCents: 40 };

/** Two hourly buckets of Berlin's fall-back night (02:00 twice) and the day after, partial. */
const instance: InstanceUsageResult = {
  instanceId: "inst_abc",
  range: "7d",
  timeZone: "Europe/Berlin",
  buckets: [
    {
      start: "2026-10-25T00:00:00.000Z",
      end: "2026-10-25T01:00:00.000Z",
      granularity: "hour",
      costCents: 600,
      billableSeconds: 3600,
      refundedCents: 0,
      partial: false,
    },
    {
      start: "2026-10-25T01:00:00.000Z",
      end: "2026-10-25T02:00:00.000Z",
      granularity: "hour",
      costCents: 0,
      billableSeconds: 0,
      refundedCents: 0,
      partial: false,
    },
    {
      start: "2026-10-25T23:00:00.000Z",
      end: "2026-10-26T23:00:00.000Z",
      granularity: "day",
      costCents: 1234,
      billableSeconds: 1800,
      refundedCents: 40,
      partial: true,
    },
  ],
  cards,
};

const account: AccountUsageResult = {
  range: "30d",
  timeZone: "UTC",
  buckets: [
    {
      start: "2026-06-10T00:00:00.000Z",
      end: "2026-06-11T00:00:00.000Z",
      granularity: "day",
      costCents: 1500,
      billableSeconds: 7200,
      refundedCents: 0,
      partial: true,
      byInstance: [
        { instanceId: "inst_abc", costCents: 1000 },
        { instanceId: null, costCents: 500 },
      ],
    },
  ],
  topInstances: [{ instanceId: "inst_abc", name: "alpha", deleted: true, costCents: 1000, billableSeconds: 3600, refundedCents: 0 }],
  cards,
};

describe("qdz usage", () => {
  test("an instance: the buckets in the zone (the repeated 02:00 told apart by its offset), then the cards", () => {
    expect(renderUsage(instance)).toBe(
      [
        "Usage of inst_abc, last 7 days, in Europe/Berlin:",
        "",
        "BUCKET                   COST    ACTIVE   REFUNDED",
        "2026-10-25 02:00 +02:00  €6.00   1:00:00  -",
        "2026-10-25 02:00 +01:00  €0.00   0:00:00  -",
        "2026-10-26 Mon *         €12.34  0:30:00  €0.40",
        "",
        "Month to date:  €2.40",
        "Average daily:  €2.49 (over 7 days)",
        "Active hours:   1.50 h",
        "Refunded:       €0.40",
      ].join("\n"),
    );
  });

  test("the account: the same, then its top instances, a deleted one marked", () => {
    const text = renderUsage(account);
    expect(text).toStartWith(
      "Usage of the account, last 30 days, in UTC:\n\nBUCKET            COST    ACTIVE   REFUNDED\n2026-06-10 Wed *  €15.00  2:00:00  -\n",
    );
    expect(text).toEndWith(
      "Top instances by cost in the range:\nINSTANCE  NAME             COST    ACTIVE   REFUNDED\ninst_abc  alpha (deleted)  €10.00  1:00:00  -",
    );
  });

  test("--json prints the body GET /billing/usage answers, in snake_case", () => {
    expect(usageJson(account)).toEqual({
      range: "30d",
      time_zone: "UTC",
      buckets: [
        {
          start: "2026-06-10T00:00:00.000Z",
          end: "2026-06-11T00:00:00.000Z",
          granularity: "day",
          cost_cents: 1500,
          billable_seconds: 7200,
          refunded_cents: 0,
          partial: true,
          by_instance: [
            { instance_id: "inst_abc", cost_cents: 1000 },
            { instance_id: null, cost_cents: 500 },
          ],
        },
      ],
      top_instances: [{ instance_id: "inst_abc", name: "alpha", deleted: true, cost_cents: 1000, billable_seconds: 3600, refunded_cents: 0 }],
      cards: { month_to_date_cents: 240, average_daily_cents: 249, days_counted: 7, active_seconds: 5400, refunded_cents: 40 },
    });
    expect(usageJson(instance)).toMatchObject({ instance_id: "inst_abc", range: "7d", time_zone: "Europe/Berlin" });
  });

  test("--time-zone defaults to this machine's, canonicalised; a bad one is a usage error naming the option", () => {
    expect(zoneOption(undefined, "Europe/Berlin")).toBe("Europe/Berlin");
    expect(zoneOption(undefined, "")).toBe("UTC");
    expect(zoneOption("asia/kolkata")).toBe("Asia/Kolkata");
    expect(() => zoneOption("+05:30")).toThrow("--time-zone: '+05:30' is not an IANA time zone");
  });

  test("labels and durations", () => {
    expect(bucketLabel({ start: "2026-03-31T19:00:00.000Z", granularity: "day" }, "Asia/Kolkata")).toBe("2026-04-01 Wed");
    expect(bucketLabel({ start: "2026-03-31T19:00:00.000Z", granularity: "hour" }, "Asia/Kolkata")).toBe("2026-04-01 00:30 +05:30");
    expect([0, 59, 3600, 90_061].map(formatDuration)).toEqual(["0:00:00", "0:00:59", "1:00:00", "25:01:01"]);
  });
});

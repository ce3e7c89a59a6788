import { describe, expect, test } from "bun:test";
import { budgetAlert, failureAlert, runwayLevel } from "../../src/spend/alerts";
import { percentSpent, thresholdReached } from "../../src/spend/thresholds";

describe("budget thresholds", () => {
  test("percent is floored: 99.9 % is not 100 %", () => {
    expect(percentSpent(4995, 5000)).toBe(99);
    expect(thresholdReached(4995, 5000)).toBe(80);
    expect(thresholdReached(5000, 5000)).toBe(100);
    expect(thresholdReached(2499, 5000)).toBe(0);
    expect(thresholdReached(2500, 5000)).toBe(50);
    // Refunds larger than the month's debits leave a negative net spend: nothing reached.
    expect(thresholdReached(-300, 5000)).toBe(0);
  });
});

describe("alert words", () => {
  test("an account budget at 100 % names what it stopped, and its key is per budget, month, amount and threshold", () => {
    const alert = budgetAlert({
      budgetId: "bud_1",
      instance: null,
      month: "2026-12",
      monthlyCents: 10_000,
      spentCents: 10_012,
      threshold: 100,
      stopped: ["qwen-a", "qwen-b"],
      stopRunning: true,
    });
    expect(alert).toMatchObject({
      kind: "budget",
      dedupKey: "budget:bud_1:2026-12:10000:100",
      severity: "critical",
      title: "The account reached 100 % of its monthly budget",
      body: "€100.12 of €100.00 spent in December 2026. New launches are refused until next month or a higher budget. Stopped: qwen-a, qwen-b.",
    });
  });

  test("runway levels: below 1 h, below 24 h, otherwise none (and none while nothing burns)", () => {
    expect([null, 0, 3599, 3600, 86_399, 86_400].map(runwayLevel)).toEqual([0, 2, 2, 1, 1, 0]);
  });

  test("a failure says what happened in words", () => {
    const alert = failureAlert({ runId: "run_1", instance: { id: "inst_1", name: "qwen" }, endedBecause: "lost", detail: "no heartbeat for 90 s" });
    expect(alert.title).toBe("'qwen' was lost (its pod stopped reporting)");
    expect(alert.dedupKey).toBe("failed:run_1");
  });
});

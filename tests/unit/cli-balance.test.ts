import { describe, expect, test } from "bun:test";
import { type BalanceSummary, balanceJson, balanceWarning, renderBalance } from "../../src/cli/commands/balance";

const noGrace = { active: false, startedAt: null, endsAt: null };

/** What `billing.balance` answers, with the fields the balance command reads. */
function summary(values: Partial<BalanceSummary>): BalanceSummary {
  return {
    balanceCents: 0,
    grace: noGrace,
    burnRateCentsPerHour: 0,
    runningInstances: 0,
    runwaySeconds: null,
    lowRunway: false,
    minRunwayHours: 1,
    currency: "eur",
    gateway: "dev",
    topUpLimits: { minCents: 500, maxCents: 1_000_000 },
    ...values,
  };
}

describe("qdz balance", () => {
  test("nothing running: no burn, no runway, no warning", () => {
    const quiet = summary({ balanceCents: 2_500 });
    expect(renderBalance(balanceJson(quiet))).toBe("Balance:    €25.00\nBurn rate:  nothing running\nRunway:     -");
    expect(balanceWarning(quiet)).toBeNull();
  });

  test("burning: the rate, how many instances, and the runway rounded as the web app shows it", () => {
    const burning = summary({ balanceCents: 896, burnRateCentsPerHour: 280, runningInstances: 1, runwaySeconds: 11_520 });
    expect(renderBalance(balanceJson(burning))).toBe("Balance:    €8.96\nBurn rate:  €2.80/h (1 running instance)\nRunway:     ~3 h 12 min");
    expect(balanceWarning(burning)).toBeNull();
    const two = summary({ balanceCents: 100_000, burnRateCentsPerHour: 410, runningInstances: 2, runwaySeconds: 878_048 });
    expect(renderBalance(balanceJson(two))).toContain("Burn rate:  €4.10/h (2 running instances)\nRunway:     ~10 days");
  });

  test("--json gives the burn rate, the runway and the low-runway flag beside the balance and grace", () => {
    const low = summary({ balanceCents: 100, burnRateCentsPerHour: 280, runningInstances: 1, runwaySeconds: 1285, lowRunway: true });
    expect(balanceJson(low)).toEqual({
      balance_cents: 100,
      currency: "eur",
      grace: { active: false, started_at: null, ends_at: null },
      burn_rate_cents_per_hour: 280,
      running_instances: 1,
      runway_seconds: 1285,
      low_runway: true,
    });
  });

  test("a short runway warns with the rate, the time left and the minimum a launch needs", () => {
    const low = summary({ balanceCents: 100, burnRateCentsPerHour: 280, runningInstances: 1, runwaySeconds: 1285, lowRunway: true });
    expect(balanceWarning(low)).toBe(
      "warning: at €2.80/h your balance lasts ~21 min, less than the 1 h a launch needs. Top up before it runs out (`qdz topup <eur>`): " +
        "after that, running instances get a grace window and are then stopped.",
    );
    expect(renderBalance(balanceJson({ ...low, runwaySeconds: 30 }))).toContain("Runway:     under a minute");
  });

  test("a negative balance: used up, and the grace warning instead of the runway's", () => {
    const endsAt = new Date("2030-01-02T10:00:00Z");
    const negative = summary({
      balanceCents: -375,
      burnRateCentsPerHour: 280,
      runningInstances: 1,
      runwaySeconds: 0,
      lowRunway: true,
      grace: { active: true, startedAt: new Date("2030-01-01T10:00:00Z"), endsAt },
    });
    expect(renderBalance(balanceJson(negative))).toBe("Balance:    -€3.75\nBurn rate:  €2.80/h (1 running instance)\nRunway:     used up");
    expect(balanceWarning(negative)).toStartWith(
      "warning: your balance is negative, so new launches are paused. Running instances are stopped at 2030-01-02 10:00 UTC",
    );
  });
});

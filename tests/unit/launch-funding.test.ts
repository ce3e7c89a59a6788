import { describe, expect, test } from "bun:test";
import { assertLaunchFunded, type BalanceSummary } from "../../src/billing/grace";

const summary = (balanceCents: number, graceActive = false): BalanceSummary => ({
  balanceCents,
  grace: { active: graceActive, startedAt: graceActive ? new Date() : null, endsAt: null },
});

describe("assertLaunchFunded", () => {
  test("passes when the balance covers the minimum runway at the launch's rate", () => {
    expect(() => assertLaunchFunded(summary(280), { hourlyRateCents: 280, minRunwayHours: 1 })).not.toThrow();
  });

  test("refuses a balance below the runway and says how much to top up", () => {
    expect(() => assertLaunchFunded(summary(279), { hourlyRateCents: 280, minRunwayHours: 1 })).toThrow(
      "This launch costs 2.80 €/h and needs 1 h of runway (2.80 €); your balance is 2.79 €. Top up at least 0.01 €.",
    );
  });

  test("rounds a fractional runway up to the cent", () => {
    expect(() => assertLaunchFunded(summary(141), { hourlyRateCents: 281, minRunwayHours: 0.5 })).not.toThrow();
    expect(() => assertLaunchFunded(summary(140), { hourlyRateCents: 281, minRunwayHours: 0.5 })).toThrow();
  });

  test("refuses any launch while the account is in grace", () => {
    expect(() => assertLaunchFunded(summary(-1, true), { hourlyRateCents: 0, minRunwayHours: 0 })).toThrow("new launches are paused");
  });
});

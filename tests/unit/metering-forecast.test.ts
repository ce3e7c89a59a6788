import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { formatRunway, isLowRunway, runwayPhrase, runwaySeconds } from "../../src/metering/forecast";

describe("runway", () => {
  test("the balance's whole seconds at the burn rate", () => {
    expect(runwaySeconds(896, 280)).toBe(11_520); // €8.96 at €2.80/h: 3 h 12 min
    expect(runwaySeconds(10_000, 79)).toBe(455_696);
    expect(runwaySeconds(1, 3600)).toBe(1);
    expect(runwaySeconds(1, 3601)).toBe(0);
  });

  test("null while nothing burns, whatever the balance", () => {
    expect(runwaySeconds(10_000, 0)).toBeNull();
    expect(runwaySeconds(-500, 0)).toBeNull();
  });

  test("zero once the balance is used up: grace applies, not a runway", () => {
    expect(runwaySeconds(0, 280)).toBe(0);
    expect(runwaySeconds(-375, 280)).toBe(0);
  });

  test("floor(balance × 3600 / burn), exactly, for any positive balance and burn (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2_000_000_000 }), fc.integer({ min: 1, max: 10_000_000 }), (balance, burn) => {
        const seconds = runwaySeconds(balance, burn)!;
        expect(Number.isInteger(seconds)).toBe(true);
        // BigInt as the referee: seconds × burn ≤ balance × 3600 < (seconds + 1) × burn.
        expect(BigInt(seconds) * BigInt(burn) <= BigInt(balance) * 3600n).toBe(true);
        expect(BigInt(seconds + 1) * BigInt(burn) > BigInt(balance) * 3600n).toBe(true);
      }),
    );
  });

  test("low below the minimum runway a launch needs, never while nothing burns", () => {
    expect(isLowRunway(3599, 1)).toBe(true);
    expect(isLowRunway(3600, 1)).toBe(false);
    expect(isLowRunway(0, 1)).toBe(true);
    expect(isLowRunway(null, 1)).toBe(false);
    expect(isLowRunway(5400, 2)).toBe(true);
    expect(isLowRunway(0, 0)).toBe(false);
  });
});

describe("runway in words", () => {
  test("rounded to what matters at each scale", () => {
    expect(formatRunway(59)).toBe("less than a minute");
    expect(formatRunway(45 * 60 + 59)).toBe("45 min");
    expect(formatRunway(11_520)).toBe("3 h 12 min");
    expect(formatRunway(3 * 3600)).toBe("3 h");
    expect(formatRunway(52 * 3600 + 59 * 60)).toBe("2 d 4 h");
    expect(formatRunway(48 * 3600)).toBe("2 d");
    expect(formatRunway(455_696)).toBe("5 d 6 h");
    expect(formatRunway(12 * 86_400 + 5)).toBe("12 days");
  });

  test("as a phrase: approximate, under a minute, or used up", () => {
    expect(runwayPhrase(11_520)).toBe("~3 h 12 min");
    expect(runwayPhrase(60)).toBe("~1 min");
    expect(runwayPhrase(59)).toBe("under a minute");
    expect(runwayPhrase(0)).toBe("used up");
  });
});

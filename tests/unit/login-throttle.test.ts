import { describe, expect, test } from "bun:test";
import { slowDownAddress } from "../../src/accounts/login-throttle";
import { RateLimitedError } from "../../src/errors";

describe("an address's slowdown", () => {
  test("no excess, no wait", async () => {
    const started = performance.now();
    await slowDownAddress("192.0.2.10", 0);
    expect(performance.now() - started).toBeLessThan(50);
  });

  test("grows with the excess, capped at 3 s, and waits on a timer: the event loop keeps running", async () => {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const started = performance.now();
    await slowDownAddress("192.0.2.11", 2);
    const short = performance.now() - started;
    await slowDownAddress("192.0.2.11", 1_000);
    const capped = performance.now() - started - short;
    clearInterval(ticker);
    expect(short).toBeGreaterThanOrEqual(490);
    expect(short).toBeLessThan(1_500);
    expect(capped).toBeGreaterThanOrEqual(2_990);
    expect(capped).toBeLessThan(4_000);
    expect(ticks).toBeGreaterThan(100);
  }, 10_000);

  test("at most 16 attempts per address wait at once; the rest are refused at once, other addresses unaffected", async () => {
    const waits = Array.from({ length: 40 }, () =>
      slowDownAddress("192.0.2.12", 1).then(
        () => "waited",
        (error) => error,
      ),
    );
    const elsewhere = slowDownAddress("192.0.2.13", 1).then(() => "waited");
    const outcomes = await Promise.all(waits);
    expect(outcomes.filter((outcome) => outcome === "waited")).toHaveLength(16);
    const refused = outcomes.filter((outcome) => outcome instanceof RateLimitedError) as RateLimitedError[];
    expect(refused).toHaveLength(24);
    expect(refused[0]!.message).toBe("Too many sign-ins in progress from your network. Try again in 3 seconds.");
    expect(refused[0]!.retryAfterSeconds).toBe(3);
    expect(await elsewhere).toBe("waited");
    // The line empties as its attempts finish.
    expect(await slowDownAddress("192.0.2.12", 1).then(() => "waited")).toBe("waited");
  });
});

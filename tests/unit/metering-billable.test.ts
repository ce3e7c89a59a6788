import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { billableSeconds, billableSecondsSql, chargeCents, type RunTimes, refundable } from "../../src/metering/billable";
import { freshDatabase } from "../support/db";

const { db } = await freshDatabase();

const base = Date.parse("2030-01-01T00:00:00Z");
/** A run's times as offsets in ms from `base`, any of them missing, in any order (clocks and bugs disagree). */
const runTimes: fc.Arbitrary<RunTimes> = fc
  .record({
    runningAt: fc.option(fc.integer({ min: 0, max: 10_000_000 })),
    lastHeartbeatAt: fc.option(fc.integer({ min: -5_000, max: 10_000_000 })),
    endedAt: fc.option(fc.integer({ min: -5_000, max: 10_000_000 })),
  })
  .map((t) => ({
    runningAt: t.runningAt === null ? null : new Date(base + t.runningAt),
    lastHeartbeatAt: t.lastHeartbeatAt === null ? null : new Date(base + t.lastHeartbeatAt),
    endedAt: t.endedAt === null ? null : new Date(base + t.endedAt),
  }));

describe("billable seconds", () => {
  test("whole seconds from running to the earliest of the end and the last heartbeat", () => {
    const at = (s: number) => new Date(base + s * 1000);
    expect(billableSeconds({ runningAt: at(0), lastHeartbeatAt: at(4827.9), endedAt: null })).toBe(4827);
    expect(billableSeconds({ runningAt: at(0), lastHeartbeatAt: at(100), endedAt: at(30.5) })).toBe(30);
    expect(billableSeconds({ runningAt: at(0), lastHeartbeatAt: at(20), endedAt: at(50) })).toBe(20);
    expect(billableSeconds({ runningAt: at(0), lastHeartbeatAt: null, endedAt: at(50) })).toBe(0);
    expect(billableSeconds({ runningAt: null, lastHeartbeatAt: at(20), endedAt: at(50) })).toBe(0);
  });

  test("never negative, never past the end or the last heartbeat, never more with an earlier end (property)", () => {
    fc.assert(
      fc.property(runTimes, fc.integer({ min: 0, max: 1_000_000 }), (run, earlier) => {
        const seconds = billableSeconds(run);
        expect(Number.isInteger(seconds) && seconds >= 0).toBe(true);
        if (!run.runningAt) return expect(seconds).toBe(0);
        const start = run.runningAt.getTime();
        if (run.endedAt) expect(start + seconds * 1000).toBeLessThanOrEqual(Math.max(start, run.endedAt.getTime()));
        expect(start + seconds * 1000).toBeLessThanOrEqual(Math.max(start, (run.lastHeartbeatAt ?? run.runningAt).getTime()));
        const endedSooner = { ...run, endedAt: new Date((run.endedAt?.getTime() ?? base + 20_000_000) - earlier) };
        expect(billableSeconds(endedSooner)).toBeLessThanOrEqual(seconds);
      }),
    );
  });

  test("the SQL rule and the function agree (property, on PostgreSQL)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(runTimes, { minLength: 1, maxLength: 50 }), async (runs) => {
        const rows = sql.join(
          runs.map(
            (run, i) => sql`(${i}::integer, ${run.runningAt?.toISOString() ?? null}::timestamptz,
            ${run.lastHeartbeatAt?.toISOString() ?? null}::timestamptz, ${run.endedAt?.toISOString() ?? null}::timestamptz)`,
          ),
          sql`, `,
        );
        const result = await db.execute<{ i: number; seconds: number }>(sql`
          select r.i, ${billableSecondsSql("r")} as seconds
          from (values ${rows}) as r(i, running_at, last_heartbeat_at, ended_at) order by r.i`);
        expect(result.map((row) => row.seconds)).toEqual(runs.map(billableSeconds));
      }),
      { numRuns: 40 },
    );
  });
});

describe("charge", () => {
  test("280 c/h for 4,827 s is 375 cents", () => {
    expect(chargeCents(4827, 280)).toBe(375);
    expect(chargeCents(0, 280)).toBe(0);
    expect(chargeCents(3600, 290)).toBe(290);
  });

  test("charging the differences at any cut points adds up to the charge of the total (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.array(fc.integer({ min: 0, max: 10_000_000 })),
        fc.integer({ min: 0, max: 10_000_000 }),
        (rate, cuts, total) => {
          let billed = 0;
          for (const seconds of [...cuts.filter((c) => c <= total).sort((a, b) => a - b), total]) {
            const difference = chargeCents(seconds, rate) - billed;
            expect(difference).toBeGreaterThanOrEqual(0);
            billed += difference;
          }
          expect(billed).toBe(chargeCents(total, rate));
          // Rounded down, by less than a cent: neither side is favoured by more than the fraction.
          expect(billed * 3600).toBeLessThanOrEqual(total * rate);
          expect((billed + 1) * 3600).toBeGreaterThan(total * rate);
        },
      ),
    );
  });
});

describe("refunds", () => {
  test("only failures, losses and reclaims within the first 60 s", () => {
    for (const reason of ["failed", "lost", "reclaimed"]) {
      expect(refundable(reason, 0)).toBe(true);
      expect(refundable(reason, 59)).toBe(true);
      expect(refundable(reason, 60)).toBe(false);
    }
    for (const reason of ["stopped", "grace", "deleted", "non_bootstrap", "placement_failed", null]) expect(refundable(reason, 10)).toBe(false);
  });
});

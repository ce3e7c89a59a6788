import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { PricingSnapshot } from "../../db/schema";
import { hourlyRate } from "../../src/pricing/snapshot";
import type { Offer } from "../../src/scheduler/offers";
import { defaultWeights, explain, type PlacementConstraints, rankOffers } from "../../src/scheduler/placement";

const gpus = ["L4", "L40S", "A100-80G", "H100-80G"];
const regions = ["eu-west", "eu-central", "us-east", "local"];

const pricing: PricingSnapshot = {
  lockedAt: "2026-11-24T00:00:00Z",
  modelClass: "llm",
  tier: "secure",
  gpuCount: 1,
  rows: [
    { gpuType: "L4", rateCentsPerGpuHour: 79, providerCostCentsPerGpuHour: 48, catalogUpdatedAt: "" },
    { gpuType: "L40S", rateCentsPerGpuHour: 156, providerCostCentsPerGpuHour: 95, catalogUpdatedAt: "" },
    { gpuType: "A100-80G", rateCentsPerGpuHour: 247, providerCostCentsPerGpuHour: 150, catalogUpdatedAt: "" },
    { gpuType: "H100-80G", rateCentsPerGpuHour: 387, providerCostCentsPerGpuHour: 235, catalogUpdatedAt: "" },
  ],
};

function offer(overrides: Partial<Offer>): Offer {
  const base: Offer = {
    id: "",
    providerId: "local",
    gpuType: "L40S",
    gpuCount: 8,
    vramGib: 48,
    region: "eu-west",
    tier: "secure",
    providerCostCentsPerGpuHour: 95,
    availableGpus: 4,
    latencyMs: 20,
  };
  const merged = { ...base, ...overrides };
  return { ...merged, id: merged.id || `${merged.providerId}/${merged.gpuType}/${merged.region}/${merged.tier}` };
}

function constraints(overrides: Partial<PlacementConstraints> = {}): PlacementConstraints {
  return {
    gpuPreferences: ["L40S", "A100-80G"],
    gpuCount: 1,
    minVramGib: null,
    allowedRegions: [],
    tier: "secure",
    maxPriceCentsPerHour: null,
    pricing,
    pinnedProviderId: null,
    ...overrides,
  };
}

describe("filtering", () => {
  test.each([
    [{ gpuType: "H100-80G" }, {}, "not among the preferences"],
    [{ region: "us-east" }, { allowedRegions: ["eu-west"] }, "outside the allowed regions"],
    [{ tier: "community" as const }, {}, "tier community, not secure"],
    [{ availableGpus: 1 }, { gpuCount: 2 }, "1 GPU(s) free, 2 needed"],
    [{ gpuCount: 1 }, { gpuCount: 2 }, "at most 1 GPU(s) per pod"],
    [{ vramGib: 48 }, { minVramGib: 80 }, "48 GiB VRAM, 80 GiB needed"],
    [{ gpuType: "A100-80G" }, { maxPriceCentsPerHour: 200 }, "costs 247 cents/h, above the maximum 200"],
    [{ providerId: "runpod" }, { pinnedProviderId: "local" }, "pinned to provider local"],
    [{ providerCostCentsPerGpuHour: 157 }, {}, "costs the platform 157 cents/h, above the locked rate of 156"],
  ])("%o with %o is rejected: %s", (offerOverrides, constraintOverrides, reason) => {
    const ranking = rankOffers([offer(offerOverrides)], constraints(constraintOverrides));
    expect(ranking.ranked).toEqual([]);
    expect(ranking.rejected[0]!.reason).toContain(reason);
  });
});

describe("ranking", () => {
  test("the cheaper GPU wins when all else is equal, and ties break on the offer id", () => {
    const ranking = rankOffers([offer({ gpuType: "A100-80G", vramGib: 80 }), offer({ gpuType: "L40S" })], constraints());
    expect(ranking.ranked.map((r) => r.offer.gpuType)).toEqual(["L40S", "A100-80G"]);
    expect(ranking.ranked[0]!.priceCentsPerHour).toBe(156);
    const twins = rankOffers([offer({ id: "b" }), offer({ id: "a" })], constraints());
    expect(twins.ranked.map((r) => r.offer.id)).toEqual(["a", "b"]);
  });

  test("for the same GPU, lower provider cost, more availability and lower latency rank higher", () => {
    const ranking = rankOffers(
      [
        offer({ providerId: "slow", latencyMs: 200 }),
        offer({ providerId: "scarce", availableGpus: 1 }),
        offer({ providerId: "pricey", providerCostCentsPerGpuHour: 140 }),
        offer({ providerId: "best" }),
      ],
      constraints(),
    );
    expect(ranking.ranked[0]!.offer.providerId).toBe("best");
    expect(ranking.ranked).toHaveLength(4);
  });

  test("scores are weighted sums of components in [0, 1], and the explanation shows them", () => {
    const ranking = rankOffers([offer({}), offer({ gpuType: "A100-80G", providerId: "x" })], constraints());
    for (const r of ranking.ranked) {
      const c = r.components;
      for (const v of Object.values(c)) expect(v).toBeWithin(0, 1.0000001);
      const expected = c.cost * 0.45 + c.availability * 0.2 + c.latency * 0.15 + c.preference * 0.2;
      expect(r.score).toBeCloseTo(expected, 10);
    }
    expect(explain(ranking.ranked[0]!, defaultWeights)).toMatch(/^L40S on local in eu-west \(secure\): score 1\.000 = cost 1\.00×0\.45/);
  });

  test("no candidate: everything rejected, with reasons", () => {
    const ranking = rankOffers([offer({ region: "us-east" })], constraints({ allowedRegions: ["eu-west"] }));
    expect(ranking.ranked).toEqual([]);
    expect(ranking.rejected).toHaveLength(1);
  });
});

describe("hard rules hold for any offers and constraints (property)", () => {
  const offerArb = fc.record({
    providerId: fc.constantFrom("local", "runpod", "vast", "lambda"),
    gpuType: fc.constantFrom(...gpus),
    gpuCount: fc.integer({ min: 1, max: 8 }),
    vramGib: fc.constantFrom(24, 48, 80),
    region: fc.constantFrom(...regions),
    tier: fc.constantFrom("secure" as const, "community" as const),
    providerCostCentsPerGpuHour: fc.integer({ min: 10, max: 500 }),
    availableGpus: fc.integer({ min: 0, max: 16 }),
    latencyMs: fc.integer({ min: 0, max: 500 }),
  });
  const constraintArb = fc.record({
    gpuPreferences: fc.shuffledSubarray(gpus, { minLength: 1 }),
    gpuCount: fc.integer({ min: 1, max: 4 }),
    minVramGib: fc.option(fc.integer({ min: 1, max: 200 }), { nil: null }),
    allowedRegions: fc.subarray(regions),
    tier: fc.constantFrom("secure" as const, "community" as const),
    maxPriceCentsPerHour: fc.option(fc.integer({ min: 50, max: 2000 }), { nil: null }),
    pinnedProviderId: fc.option(fc.constantFrom("local", "runpod"), { nil: null }),
  });

  test("never outside the allowed regions, never above the maximum price or at a loss, never another tier or provider when pinned", () => {
    fc.assert(
      fc.property(fc.array(offerArb, { maxLength: 40 }), constraintArb, (rawOffers, raw) => {
        const offers = rawOffers.map((o, i) => ({ ...o, id: `o${i}` }));
        const c = constraints({ ...raw, pricing: { ...pricing, tier: raw.tier, gpuCount: raw.gpuCount } });
        const { ranked, rejected } = rankOffers(offers, c);
        expect(ranked.length + rejected.length).toBe(offers.length);
        for (const r of ranked) {
          if (c.allowedRegions.length) expect(c.allowedRegions).toContain(r.offer.region);
          if (c.maxPriceCentsPerHour !== null) expect(r.priceCentsPerHour).toBeLessThanOrEqual(c.maxPriceCentsPerHour);
          expect(r.priceCentsPerHour).toBe(hourlyRate(c.pricing, r.offer.gpuType)!);
          expect(r.offer.tier).toBe(c.tier);
          expect(r.offer.availableGpus).toBeGreaterThanOrEqual(c.gpuCount);
          if (c.pinnedProviderId) expect(r.offer.providerId).toBe(c.pinnedProviderId);
          if (c.minVramGib !== null) expect(r.offer.vramGib * c.gpuCount).toBeGreaterThanOrEqual(c.minVramGib);
          // Never at a loss: what the capacity costs the platform is within the rate the instance pays.
          expect(r.offer.providerCostCentsPerGpuHour * c.gpuCount).toBeLessThanOrEqual(r.priceCentsPerHour);
        }
        for (let i = 1; i < ranked.length; i++) expect(ranked[i - 1]!.score).toBeGreaterThanOrEqual(ranked[i]!.score);
      }),
      { numRuns: 500 },
    );
  });
});

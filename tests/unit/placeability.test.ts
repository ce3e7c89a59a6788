import { describe, expect, test } from "bun:test";
import type { Offer } from "../../src/scheduler/offers";
import { type CatalogRates, leadingReason, type PlaceabilityConstraints, placeability, snapshotFor } from "../../src/scheduler/placeability";
import { rankOffers } from "../../src/scheduler/placement";

/** The catalog's llm prices (per GPU-hour) for the GPUs the local provider offers. */
const rates: CatalogRates = {
  modelClass: "llm",
  rows: [
    ["L4", 79, 42],
    ["L40S", 156, 87],
    ["A100-80G", 247, 133],
    ["H100-80G", 387, 231],
    ["H200-141G", 527, 322],
  ].flatMap(([gpuType, secure, community]) => [
    { gpuType: gpuType as string, tier: "secure" as const, rateCentsPerGpuHour: secure as number, providerCostCentsPerGpuHour: 1 },
    { gpuType: gpuType as string, tier: "community" as const, rateCentsPerGpuHour: community as number, providerCostCentsPerGpuHour: 1 },
  ]),
};

const vram: Record<string, number> = { L4: 24, L40S: 48, "A100-80G": 80, "H100-80G": 80 };

/** The local provider's shape: every GPU type in both tiers, sharing the free count. */
function inventory(free: Record<string, number>, perPod = 2): Offer[] {
  return Object.entries(free).flatMap(([gpuType, availableGpus]) =>
    (["secure", "community"] as const).map((tier) => ({
      id: `local/${gpuType}/${tier}`,
      providerId: "local",
      gpuType,
      gpuCount: perPod,
      vramGib: vram[gpuType]!,
      region: "local",
      tier,
      providerCostCentsPerGpuHour: 1,
      availableGpus,
      latencyMs: 1,
    })),
  );
}

const launch = (overrides: Partial<PlaceabilityConstraints> = {}): PlaceabilityConstraints => ({
  gpuPreferences: ["L4"],
  gpuCount: 1,
  minVramGib: null,
  allowedRegions: [],
  tier: "secure",
  maxPriceCentsPerHour: null,
  pinnedProviderId: null,
  ...overrides,
});

const judge = (offers: Offer[], constraints: PlaceabilityConstraints, requiredGib: number | null = 2) =>
  placeability({ offers, constraints, rates, requiredGib });

describe("a placeable launch", () => {
  test("says where it goes and at the price the launch would lock", () => {
    const result = judge(inventory({ L4: 2, L40S: 1 }), launch({ gpuPreferences: ["L4", "L40S"] }));
    expect(result).toMatchObject({ placeable: true, reason: null, message: null, alternatives: [], picked: null });
    expect(result.best).toMatchObject({ gpuType: "L4", gpuCount: 1, tier: "secure", priceCentsPerHour: 79, freeGpus: 2, region: "local" });
    expect(result.choices).toEqual([
      { gpuType: "L4", placeable: true, priceCentsPerHour: 79, freeGpus: 2, regions: ["local"], reason: null },
      { gpuType: "L40S", placeable: true, priceCentsPerHour: 156, freeGpus: 1, regions: ["local"], reason: null },
    ]);
  });

  test("a fallback that is free makes it placeable, and the taken preference says why", () => {
    const result = judge(inventory({ L4: 0, L40S: 1 }), launch({ gpuPreferences: ["L4", "L40S"] }));
    expect(result.placeable).toBe(true);
    expect(result.best?.gpuType).toBe("L40S");
    expect(result.choices[0]).toMatchObject({ gpuType: "L4", placeable: false, priceCentsPerHour: 79, reason: "No L4 is free right now." });
  });

  test("prices scale with the GPU count", () => {
    const result = judge(inventory({ "A100-80G": 2 }), launch({ gpuPreferences: ["A100-80G"], gpuCount: 2 }));
    expect(result.best?.priceCentsPerHour).toBe(494);
  });
});

describe("an unplaceable launch: the one reason, and what could be placed instead", () => {
  test("no L4 free: the cheapest free GPU is offered, worded for people", () => {
    const result = judge(inventory({ L4: 0, L40S: 0, "A100-80G": 1 }), launch());
    expect(result).toMatchObject({ placeable: false, field: "gpuPreferences", reason: "No L4 is free right now." });
    expect(result.alternatives[0]).toEqual({ gpuType: "A100-80G", gpuCount: 1, tier: "secure", priceCentsPerHour: 247, freeGpus: 1, regions: ["local"] });
    expect(result.message).toBe("No L4 is free right now; 1 A100-80G is, at €2.47/h.");
  });

  test("only some free: how many, against how many are needed", () => {
    const result = judge(inventory({ L4: 1, L40S: 2 }), launch({ gpuCount: 2 }), null);
    expect(result.reason).toBe("Only 1 L4 is free right now, 2 needed.");
    expect(result.message).toBe("Only 1 L4 is free right now, 2 needed; 2 L40S are, at €3.12/h.");
  });

  test("a GPU nobody offers (8×H200): said plainly, not as a rule-out per offer", () => {
    const result = judge(inventory({ L4: 2, L40S: 2, "A100-80G": 2, "H100-80G": 1 }), launch({ gpuPreferences: ["H200-141G"], gpuCount: 8 }), null);
    expect(result.reason).toBe("No provider offers H200-141G.");
    expect(result.field).toBe("gpuPreferences");
    // Nothing offers eight to a pod either: no alternative is made up.
    expect(result.alternatives).toEqual([]);
    expect(result.message).toBe("No provider offers H200-141G.");
  });

  test("too many GPUs per pod names the count", () => {
    const result = judge(inventory({ L4: 2 }), launch({ gpuCount: 4 }), null);
    expect(result).toMatchObject({ reason: "L4 comes at most 2 to a pod; 4 asked for.", field: "gpuCount" });
  });

  test("a region nobody offers names the field and where the GPU is", () => {
    const result = judge(inventory({ L4: 2 }), launch({ allowedRegions: ["eu-mars"] }));
    expect(result).toMatchObject({ reason: "No L4 is offered in eu-mars; there is L4 in local.", field: "allowedRegions", alternatives: [] });
  });

  test("a maximum price below the rate", () => {
    const result = judge(inventory({ L4: 2, L40S: 2 }), launch({ maxPriceCentsPerHour: 50 }));
    expect(result).toMatchObject({ reason: "1×L4 costs €0.79/h, above your maximum of €0.50/h.", field: "maxPriceCentsPerHour" });
    // The community tier is under the cap: offered after the chosen tier's options (none here).
    expect(result.message).toBe("1×L4 costs €0.79/h, above your maximum of €0.50/h; 1 L4 is in the community tier, at €0.42/h.");
  });

  test("a minimum VRAM above the GPU's", () => {
    const result = judge(inventory({ L4: 2, L40S: 2 }), launch({ minVramGib: 40 }), null);
    expect(result).toMatchObject({ reason: "1×L4 has 24 GiB of VRAM; at least 40 GiB asked for.", field: "minVramGib" });
    expect(result.alternatives[0]).toMatchObject({ gpuType: "L40S", priceCentsPerHour: 156 });
  });

  test("alternatives only name GPUs the model fits on, same tier first, cheapest first", () => {
    const offers = inventory({ L4: 0, L40S: 2, "A100-80G": 2, "H100-80G": 1 });
    const result = judge(offers, launch(), 30);
    expect(result.alternatives.map((a) => [a.gpuType, a.tier])).toEqual([
      ["L40S", "secure"],
      ["A100-80G", "secure"],
      ["H100-80G", "secure"],
    ]);
    expect(judge(offers, launch(), 60).alternatives.map((a) => a.gpuType)).toEqual(["A100-80G", "H100-80G"]);
  });

  test("no provider at all", () => {
    expect(judge([], launch()).reason).toBe("No provider offers capacity right now.");
  });
});

describe("the default GPU pick", () => {
  test("the cheapest free GPU that fits the model's estimate, and why", () => {
    const result = judge(inventory({ L4: 2, L40S: 2, "A100-80G": 2 }), launch({ gpuPreferences: [] }), 5.2);
    expect(result.picked).toEqual({ gpuType: "L4", gpuCount: 1, priceCentsPerHour: 79, why: "cheapest free GPU with ≥ 6 GiB" });
    expect(result).toMatchObject({ placeable: true, gpuPreferences: ["L4"] });
  });

  test("skips what is taken and what is too small", () => {
    expect(judge(inventory({ L4: 0, L40S: 2, "A100-80G": 2 }), launch({ gpuPreferences: [] }), 5).picked?.gpuType).toBe("L40S");
    expect(judge(inventory({ L4: 2, L40S: 2, "A100-80G": 2 }), launch({ gpuPreferences: [] }), 30).picked).toMatchObject({
      gpuType: "L40S",
      why: "cheapest free GPU with ≥ 34 GiB",
    });
  });

  test("a plain pod (no estimate) gets the cheapest free GPU", () => {
    expect(judge(inventory({ L4: 1, L40S: 2 }), launch({ gpuPreferences: [], tier: "community" }), null).picked).toEqual({
      gpuType: "L4",
      gpuCount: 1,
      priceCentsPerHour: 42,
      why: "cheapest free GPU",
    });
  });

  test("nothing that fits is free: said plainly, with the other tier if it has one", () => {
    const result = judge(inventory({ L4: 2, "A100-80G": 0 }), launch({ gpuPreferences: [] }), 40);
    expect(result).toMatchObject({ placeable: false, picked: null, reason: "No GPU with ≥ 45 GiB is free right now in the secure tier." });
    expect(result.alternatives).toEqual([]);
  });
});

describe("the leading reason at provisioning time", () => {
  test("the closest offer's rule, not every offer's", () => {
    const offers = inventory({ L4: 0, L40S: 2 });
    const constraints = { ...launch(), pricing: snapshotFor(rates, "secure", ["L4"], 1) };
    const { rejected } = rankOffers(offers, constraints);
    expect(rejected.length).toBe(4);
    expect(leadingReason(offers, rejected, constraints)).toEqual({ reason: "No L4 is free right now.", field: "gpuPreferences" });
  });

  test("several preferences all taken are named together, in order", () => {
    const offers = inventory({ L4: 0, L40S: 0 });
    const constraints = { ...launch({ gpuPreferences: ["L40S", "L4"] }), pricing: snapshotFor(rates, "secure", ["L40S", "L4"], 1) };
    expect(leadingReason(offers, rankOffers(offers, constraints).rejected, constraints).reason).toBe("No L40S or L4 is free right now.");
  });
});

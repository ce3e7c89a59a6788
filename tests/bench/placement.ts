/**
 * `bun run bench:placement`: ranks 10,000 offers and reports the time, as a
 * ratio against a baseline measured in the same run (sorting the same offers
 * by price alone), so the number means the same on a slow or a busy machine.
 */
import type { PricingSnapshot } from "../../db/schema";
import type { Offer } from "../../src/scheduler/offers";
import { type PlacementConstraints, rankOffers } from "../../src/scheduler/placement";

const gpus = ["L4", "RTX4090", "A100-40G", "L40S", "A100-80G", "H100-80G", "H200-141G"];
const regions = ["local", "eu-west", "eu-central", "us-east", "us-west", "ap-south"];
const providers = ["local", "runpod", "vast", "lambda", "kubernetes"];

// A fixed-seed generator: the same offers every run.
let seed = 42;
const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!;

const offers: Offer[] = Array.from({ length: 10_000 }, (_, i) => ({
  id: `offer-${i}`,
  providerId: pick(providers),
  gpuType: pick(gpus),
  gpuCount: pick([1, 2, 4, 8]),
  vramGib: pick([24, 40, 48, 80, 141]),
  region: pick(regions),
  tier: pick(["secure", "community"] as const),
  providerCostCentsPerGpuHour: 20 + Math.floor(random() * 300),
  availableGpus: Math.floor(random() * 16),
  latencyMs: Math.floor(random() * 250),
}));

const pricing: PricingSnapshot = {
  lockedAt: new Date().toISOString(),
  modelClass: "llm",
  tier: "secure",
  gpuCount: 1,
  rows: gpus.map((gpu, i) => ({ gpuType: gpu, rateCentsPerGpuHour: 80 + i * 60, providerCostCentsPerGpuHour: 50 + i * 40, catalogUpdatedAt: "" })),
};
const constraints: PlacementConstraints = {
  gpuPreferences: gpus,
  gpuCount: 1,
  minVramGib: null,
  allowedRegions: [],
  tier: "secure",
  maxPriceCentsPerHour: null,
  pricing,
  pinnedProviderId: null,
};

function measure(name: string, run: () => unknown, iterations = 50) {
  for (let i = 0; i < 10; i++) run(); // warm-up: JIT and caches
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = Bun.nanoseconds();
    run();
    samples.push((Bun.nanoseconds() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { name, p50: samples[Math.floor(samples.length / 2)]!, p99: samples[Math.floor(samples.length * 0.99)]! };
}

const baseline = measure("baseline: sort 10,000 offers by provider cost", () =>
  [...offers].sort((a, b) => a.providerCostCentsPerGpuHour - b.providerCostCentsPerGpuHour),
);
const ranking = measure("rankOffers: filter + score + sort 10,000 offers", () => rankOffers(offers, constraints));
const result = rankOffers(offers, constraints);

console.log("| measurement | p50 (ms) | p99 (ms) | × baseline (p50) |");
console.log("| --- | ---: | ---: | ---: |");
for (const m of [baseline, ranking]) {
  console.log(`| ${m.name} | ${m.p50.toFixed(3)} | ${m.p99.toFixed(3)} | ${(m.p50 / baseline.p50).toFixed(2)} |`);
}
console.log(`\n${result.ranked.length} offers ranked, ${result.rejected.length} rejected with a reason.`);

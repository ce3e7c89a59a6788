import type { Offer } from "../../scheduler/offers";
import type { OfferQuery } from "../seam";
import type { RunPodAvailability, RunPodCloud, RunPodGpuType } from "./runpod-api";

export const RUNPOD_PROVIDER_ID = "runpod";

export type Tier = Offer["tier"];

export const cloudOfTier = { secure: "SECURE", community: "COMMUNITY" } as const satisfies Record<Tier, RunPodCloud>;

/**
 * GPUs assumed free per availability level. RunPod publishes a level computed for the asked GPU count, not a count:
 * any level but NONE means at least one pod of that count fits, so LOW counts as exactly one such pod and the higher
 * levels as a few pods' worth. Placement only compares this with the GPUs it needs, so an estimate that never
 * overstates LOW is what matters.
 */
function assumedFreeGpus(level: RunPodAvailability, count: number, maxPerPod: number): number {
  if (level === "NONE") return 0;
  if (level === "LOW") return count;
  return Math.max(count, maxPerPod) * (level === "HIGH" ? 2 : 1);
}

/** USD per hour in cents, rounded up: a cost is never understated (0.44 × 100 is 44.000000000000004 in floats, hence the rounding first). */
export function centsRoundedUp(usd: number): number {
  return Math.ceil(Math.round(usd * 100 * 1000) / 1000);
}

/** One tier's catalog answer as offers, for the GPU types the platform maps and the query asks for. */
export function offersFromCatalog(
  gpus: RunPodGpuType[],
  tier: Tier,
  query: OfferQuery,
  platformTypeOf: (runpodGpuId: string) => string | undefined,
  latencyMs: number,
): Offer[] {
  const offers: Offer[] = [];
  for (const gpu of gpus) {
    const gpuType = platformTypeOf(gpu.id);
    if (!gpuType || (query.gpuTypes.length > 0 && !query.gpuTypes.includes(gpuType))) continue;
    const price = gpu.price[tier];
    const maxPerPod = gpu.maxCount[tier];
    if (!gpu[tier] || !(price > 0) || maxPerPod < query.gpuCount) continue;
    for (const dataCenter of gpu.dataCenters ?? []) {
      if (query.regions.length > 0 && !query.regions.includes(dataCenter.id)) continue;
      const availableGpus = assumedFreeGpus(dataCenter.availability, Math.max(1, query.gpuCount), maxPerPod);
      if (availableGpus === 0) continue;
      offers.push({
        id: `${RUNPOD_PROVIDER_ID}/${gpuType}/${dataCenter.id}/${tier}`,
        providerId: RUNPOD_PROVIDER_ID,
        gpuType,
        gpuCount: maxPerPod,
        vramGib: gpu.memory,
        region: dataCenter.id,
        tier,
        providerCostCentsPerGpuHour: centsRoundedUp(price),
        availableGpus,
        latencyMs,
      });
    }
  }
  return offers;
}

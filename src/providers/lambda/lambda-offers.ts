import type { Offer } from "../../scheduler/offers";
import type { OfferQuery } from "../seam";
import type { LambdaInstanceTypesItem } from "./lambda-api";

export const LAMBDA_PROVIDER_ID = "lambda";

/** `gpu_8x_h100_sxm5` → 8 GPUs of model `h100_sxm5`; null for a type that is not a GPU instance. */
export function parseInstanceType(name: string): { gpus: number; model: string } | null {
  const match = /^gpu_(\d+)x_(.+)$/.exec(name);
  return match ? { gpus: Number(match[1]), model: match[2]! } : null;
}

/** An offer's id names the instance type and region, so `provision` needs nothing but the offer. */
export function offerId(instanceType: string, region: string): string {
  return `${LAMBDA_PROVIDER_ID}/${instanceType}/${region}/secure`;
}

export function parseOfferId(id: string): { instanceType: string; region: string } | null {
  const [provider, instanceType, region] = id.split("/");
  return provider === LAMBDA_PROVIDER_ID && instanceType && region ? { instanceType, region } : null;
}

/**
 * Instance types as offers, one per region with capacity. Lambda sells whole machines on demand (no spot tier, so
 * every offer is secure) and bills the whole machine, so only types with exactly the asked GPU count are offered: an
 * 8-GPU machine for a 1-GPU pod would cost eight times what its per-GPU price says. Per-GPU VRAM comes from the GPU's
 * description ("H100 (80 GB SXM5)").
 */
export function offersFromInstanceTypes(
  types: Record<string, LambdaInstanceTypesItem>,
  query: OfferQuery,
  platformTypeOf: (model: string) => string | undefined,
  latencyMs: number,
): Offer[] {
  if (query.tier === "community") return [];
  const offers: Offer[] = [];
  for (const { instance_type: type, regions_with_capacity_available: regions } of Object.values(types)) {
    const parsed = parseInstanceType(type.name);
    const gpuType = parsed && platformTypeOf(parsed.model);
    if (!parsed || !gpuType || (query.gpuTypes.length > 0 && !query.gpuTypes.includes(gpuType))) continue;
    const gpus = type.specs?.gpus ?? parsed.gpus;
    const vram = Number(/(\d+)\s*GB/i.exec(type.gpu_description ?? type.description)?.[1]);
    if (gpus !== Math.max(1, query.gpuCount) || !(vram > 0) || !(type.price_cents_per_hour > 0)) continue;
    for (const region of regions) {
      if (query.regions.length > 0 && !query.regions.includes(region.name)) continue;
      offers.push({
        id: offerId(type.name, region.name),
        providerId: LAMBDA_PROVIDER_ID,
        gpuType,
        gpuCount: gpus,
        vramGib: vram,
        region: region.name,
        tier: "secure",
        providerCostCentsPerGpuHour: Math.ceil(type.price_cents_per_hour / gpus),
        // Lambda says only whether a region has capacity for the type: at least one machine.
        availableGpus: gpus,
        latencyMs,
      });
    }
  }
  return offers;
}

/**
 * Vast's asks grouped into the platform's offers: one per (GPU type, GPUs per machine, country, tier).
 *
 * Tiers, from the reference's search fields: `secure` is an on-demand rental (`type: "ondemand"`, the host's fixed price,
 * never interrupted) on a machine that is both `verified` and `datacenter`; `community` is an interruptible rental
 * (`type: "bid"`, a bid that a higher one pauses). On-demand asks on other machines are not offered: they are neither
 * datacenter-grade nor reclaimable, so neither tier's promise fits them.
 */

import type { Offer } from "../../scheduler/offers";
import type { OfferQuery } from "../seam";
import type { VastGpuMapping } from "./options";
import type { VastOffer, VastSearchBody } from "./vast-api";

export type Tier = "secure" | "community";

/** A concrete ask provision may rent for an offer, at no more than the offer's quoted price. */
export interface RentableAsk {
  askId: number;
  /** What renting it costs per GPU-hour, in cents, rounded up. */
  costCentsPerGpuHour: number;
  /** The bid to send ($/hour for the machine), null for an on-demand rental. */
  bid: number | null;
}

export interface OfferGroup {
  offer: Offer;
  /** Cheapest first. */
  asks: RentableAsk[];
}

export interface GroupingSettings {
  providerId: string;
  gpuTypes: Record<string, VastGpuMapping>;
  bidMargin: number;
  priceBand: number;
  latencyMs: number;
}

export function searchBody(query: OfferQuery, tier: Tier, settings: { gpuTypes: Record<string, VastGpuMapping>; diskGib: number }): VastSearchBody {
  const types = query.gpuTypes.length ? query.gpuTypes : Object.keys(settings.gpuTypes);
  const names = types.flatMap((t) => settings.gpuTypes[t]?.names ?? []);
  return {
    limit: 500,
    type: tier === "secure" ? "ondemand" : "bid",
    // Verified hosts only, in both tiers: an unverified one has passed none of Vast's checks.
    verified: { eq: true },
    rentable: { eq: true },
    rented: { eq: false },
    ...(tier === "secure" ? { datacenter: { eq: true } } : {}),
    gpu_name: { in: names },
    ...(query.gpuCount > 0 ? { num_gpus: { eq: query.gpuCount } } : {}),
    ...(query.regions.length ? { geolocation: { in: query.regions } } : {}),
    allocated_storage: settings.diskGib,
    order: [["dph_total", "asc"]],
  };
}

/** The offers in one search's answer that fit `query`, each with the asks behind it. */
export function groupOffers(answer: VastOffer[], query: OfferQuery, tier: Tier, settings: GroupingSettings): OfferGroup[] {
  const groups = new Map<string, { gpuType: string; gpuCount: number; region: string; vramGib: number; asks: RentableAsk[] }>();
  for (const ask of answer) {
    if (tier === "secure" && ask.verification !== "verified") continue;
    const gpuType = platformGpuType(ask, settings.gpuTypes);
    const region = countryCode(ask.geolocation);
    if (!gpuType || !region) continue;
    if (query.gpuTypes.length && !query.gpuTypes.includes(gpuType)) continue;
    if (query.regions.length && !query.regions.includes(region)) continue;
    // A pod of fewer GPUs would pay for the whole machine: only exact counts are offered.
    if (query.gpuCount > 0 && ask.num_gpus !== query.gpuCount) continue;
    const rentable = priced(ask, tier, settings.bidMargin);
    if (!rentable) continue;
    const key = `${gpuType}/${ask.num_gpus}x/${region}/${tier}`;
    const group = groups.get(key) ?? { gpuType, gpuCount: ask.num_gpus, region, vramGib: Number.POSITIVE_INFINITY, asks: [] };
    group.vramGib = Math.min(group.vramGib, Math.round(ask.gpu_ram / 1024));
    group.asks.push(rentable);
    groups.set(key, group);
  }
  return [...groups.entries()].map(([key, g]) => {
    const sorted = g.asks.sort((a, b) => a.costCentsPerGpuHour - b.costCentsPerGpuHour);
    const cheapest = sorted[0]?.costCentsPerGpuHour ?? 0;
    // The offer quotes the dearest ask it keeps, so whichever of them provision rents never costs more than placement saw.
    const asks = sorted.filter((a) => a.costCentsPerGpuHour <= Math.ceil(cheapest * (1 + settings.priceBand)));
    const offer: Offer = {
      id: `${settings.providerId}/${key}`,
      providerId: settings.providerId,
      gpuType: g.gpuType,
      gpuCount: g.gpuCount,
      vramGib: g.vramGib,
      region: g.region,
      tier,
      providerCostCentsPerGpuHour: Math.max(...asks.map((a) => a.costCentsPerGpuHour)),
      availableGpus: asks.length * g.gpuCount,
      latencyMs: settings.latencyMs,
    };
    return { offer, asks };
  });
}

/** Cents per GPU-hour, rounded up; for a bid, the bid (min_bid plus the margin) replaces the minimum in `dph_total`. */
function priced(ask: VastOffer, tier: Tier, bidMargin: number): RentableAsk | null {
  if (tier === "secure") return { askId: ask.id, costCentsPerGpuHour: centsUp(ask.dph_total / ask.num_gpus), bid: null };
  if (ask.min_bid === null || ask.min_bid === undefined) return null;
  const bid = Math.max(0.001, Math.ceil(ask.min_bid * (1 + bidMargin) * 1000 - 1e-6) / 1000);
  return { askId: ask.id, costCentsPerGpuHour: centsUp((ask.dph_total - ask.min_bid + bid) / ask.num_gpus), bid };
}

function centsUp(dollars: number): number {
  return Math.ceil(dollars * 100 - 1e-9);
}

function platformGpuType(ask: VastOffer, gpuTypes: Record<string, VastGpuMapping>): string | null {
  const name = normalized(ask.gpu_name);
  for (const [id, mapping] of Object.entries(gpuTypes)) {
    if (mapping.names.some((n) => normalized(n) === name) && ask.gpu_ram >= (mapping.minGpuRamMb ?? 0)) return id;
  }
  return null;
}

/** Vast spells GPU names with spaces in answers and with underscores in its filter examples. */
export function normalized(gpuName: string): string {
  return gpuName.replace(/_/g, " ").trim().toLowerCase();
}

/** "Atlantis, AT" → "AT": the region is the country, the granularity Vast's `geolocation` filter takes. */
export function countryCode(geolocation: string | null | undefined): string | null {
  const last = geolocation?.split(",").at(-1)?.trim() ?? "";
  return /^[A-Za-z]{2}$/.test(last) ? last.toUpperCase() : null;
}

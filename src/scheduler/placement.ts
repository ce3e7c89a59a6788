import type { PricingSnapshot } from "../../db/schema";
import { hourlyRate } from "../pricing/snapshot";
import type { Offer } from "./offers";

export interface PlacementConstraints {
  gpuPreferences: string[];
  gpuCount: number;
  /** Total VRAM across the pod's GPUs. */
  minVramGib: number | null;
  /** Regional pinning: never outside these; empty is anywhere. */
  allowedRegions: string[];
  tier: "secure" | "community";
  maxPriceCentsPerHour: number | null;
  pricing: PricingSnapshot;
  /** Pinned mode: only this provider. */
  pinnedProviderId: string | null;
}

/** How much each signal counts; they sum to 1 so a score reads as a percentage. */
export interface PlacementWeights {
  cost: number;
  availability: number;
  latency: number;
  preference: number;
}

export const defaultWeights: PlacementWeights = { cost: 0.45, availability: 0.2, latency: 0.15, preference: 0.2 };

export interface RankedOffer {
  offer: Offer;
  /** The user's hourly rate on this offer, from the pricing snapshot. */
  priceCentsPerHour: number;
  score: number;
  /** Each signal in [0, 1] before weighting: the explanation of the score. */
  components: PlacementWeights;
}

export interface RejectedOffer {
  offer: Offer;
  reason: string;
  rule: PlacementRule;
}

export interface Ranking {
  ranked: RankedOffer[];
  rejected: RejectedOffer[];
  weights: PlacementWeights;
}

/** The hard rules in the order they are checked: an offer that breaks a later one came closer to hosting the instance. */
export const placementRules = ["provider", "gpu", "region", "tier", "perPod", "free", "vram", "price", "loss", "maxPrice"] as const;
export type PlacementRule = (typeof placementRules)[number];

export interface BrokenRule {
  rule: PlacementRule;
  message: string;
}

/** The first rule `offer` breaks, or null when it may host the instance. Hard rules: no weight can override them. */
export function brokenRule(offer: Offer, c: PlacementConstraints, price: number | null): BrokenRule | null {
  const broken = (rule: PlacementRule, message: string) => ({ rule, message });
  if (c.pinnedProviderId && offer.providerId !== c.pinnedProviderId) return broken("provider", `pinned to provider ${c.pinnedProviderId}`);
  if (!c.gpuPreferences.includes(offer.gpuType)) return broken("gpu", `GPU ${offer.gpuType} is not among the preferences`);
  if (c.allowedRegions.length > 0 && !c.allowedRegions.includes(offer.region)) return broken("region", `region ${offer.region} is outside the allowed regions`);
  if (offer.tier !== c.tier) return broken("tier", `tier ${offer.tier}, not ${c.tier}`);
  if (offer.gpuCount < c.gpuCount) return broken("perPod", `at most ${offer.gpuCount} GPU(s) per pod, ${c.gpuCount} needed`);
  if (offer.availableGpus < c.gpuCount) return broken("free", `${offer.availableGpus} GPU(s) free, ${c.gpuCount} needed`);
  if (c.minVramGib !== null && offer.vramGib * c.gpuCount < c.minVramGib) {
    return broken("vram", `${offer.vramGib * c.gpuCount} GiB VRAM, ${c.minVramGib} GiB needed`);
  }
  if (price === null) return broken("price", `no locked price for ${offer.gpuType}`);
  // Never at a loss: the instance's rate is locked, so capacity that costs us more than it than pays would lose money every hour.
  const cost = offer.providerCostCentsPerGpuHour * c.gpuCount;
  if (cost > price) return broken("loss", `costs the platform ${cost} cents/h, above the locked rate of ${price}`);
  if (c.maxPriceCentsPerHour !== null && price > c.maxPriceCentsPerHour) {
    return broken("maxPrice", `costs ${price} cents/h, above the maximum ${c.maxPriceCentsPerHour}`);
  }
  return null;
}

/** The first rule's words, or null: what a placement decision stores per rejected offer. */
export function ruleBroken(offer: Offer, c: PlacementConstraints, price: number | null): string | null {
  return brokenRule(offer, c, price)?.message ?? null;
}

/**
 * Filters offers by the instance's constraints, then ranks the rest by a
 * weighted score of cost, availability, latency and GPU preference. Every
 * offer comes back either ranked (with its score's components) or rejected
 * (with the rule it broke), so the decision can be stored and explained.
 */
export function rankOffers(offers: readonly Offer[], c: PlacementConstraints, weights: PlacementWeights = defaultWeights): Ranking {
  const candidates: { offer: Offer; price: number }[] = [];
  const rejected: RejectedOffer[] = [];
  for (const offer of offers) {
    const price = hourlyRate(c.pricing, offer.gpuType);
    const broken = brokenRule(offer, c, price);
    if (broken) rejected.push({ offer, reason: broken.message, rule: broken.rule });
    else candidates.push({ offer, price: price! });
  }
  if (candidates.length === 0) return { ranked: [], rejected, weights };

  let minPrice = Infinity;
  let minCost = Infinity;
  let maxAvailable = 0;
  let minLatency = Infinity;
  for (const { offer, price } of candidates) {
    minPrice = Math.min(minPrice, price);
    minCost = Math.min(minCost, offer.providerCostCentsPerGpuHour);
    maxAvailable = Math.max(maxAvailable, offer.availableGpus);
    minLatency = Math.min(minLatency, offer.latencyMs);
  }
  const preferences = c.gpuPreferences.length;

  const ranked = candidates.map(({ offer, price }): RankedOffer => {
    const components = {
      // The user's price first; our cost breaks ties between equally priced offers.
      cost: 0.8 * ratio(minPrice, price) + 0.2 * ratio(minCost, offer.providerCostCentsPerGpuHour),
      availability: offer.availableGpus / maxAvailable,
      latency: ratio(Math.max(1, minLatency), Math.max(1, offer.latencyMs)),
      preference: 1 - c.gpuPreferences.indexOf(offer.gpuType) / preferences,
    };
    const score =
      weights.cost * components.cost +
      weights.availability * components.availability +
      weights.latency * components.latency +
      weights.preference * components.preference;
    return { offer, priceCentsPerHour: price, score, components };
  });
  // Ties go to the offer id, so the same offers always give the same placement.
  ranked.sort((a, b) => b.score - a.score || (a.offer.id < b.offer.id ? -1 : a.offer.id > b.offer.id ? 1 : 0));
  return { ranked, rejected, weights };
}

function ratio(best: number, value: number): number {
  return value <= 0 ? 1 : best / value;
}

/** "L40S in eu-west (secure): score 0.91 — cost 1.00, availability 0.50, …": the reason shown to people. */
export function explain(choice: RankedOffer, weights: PlacementWeights): string {
  const parts = (Object.keys(weights) as (keyof PlacementWeights)[]).map((k) => `${k} ${choice.components[k].toFixed(2)}×${weights[k]}`);
  // A cached offer says how old it is: the capacity it describes was seen then, not now.
  const age = choice.offer.ageSeconds ? `; offer seen ${choice.offer.ageSeconds} s ago` : "";
  return `${choice.offer.gpuType} on ${choice.offer.providerId} in ${choice.offer.region} (${choice.offer.tier}): score ${choice.score.toFixed(3)} = ${parts.join(" + ")}${age}`;
}

import type { PricingSnapshot } from "../../db/schema";
import { formatEur } from "../billing/money-format";
import type { Offer } from "./offers";
import { type PlacementConstraints, type PlacementRule, placementRules, type RejectedOffer, rankOffers } from "./placement";

/**
 * Whether a launch can be placed now, asked before anything is created: the
 * Launch page, `qdz instances launch --validate-only`, the launch verb's own
 * refusal and the provisioning failure's wording all read this. Pure: the
 * live offers, the constraints and the catalog's prices come in as arguments.
 */

type Tier = PlacementConstraints["tier"];

/** The catalog's price of one GPU type in one tier for the launch's model class: the row a launch would lock. */
export interface CatalogRate {
  gpuType: string;
  tier: Tier;
  rateCentsPerGpuHour: number;
  providerCostCentsPerGpuHour: number;
}

export interface CatalogRates {
  modelClass: PricingSnapshot["modelClass"];
  rows: readonly CatalogRate[];
}

/** The launch's constraints; an empty `gpuPreferences` asks for the default pick. */
export type PlaceabilityConstraints = Omit<PlacementConstraints, "pricing">;

export interface PlaceabilityInput {
  offers: readonly Offer[];
  constraints: PlaceabilityConstraints;
  rates: CatalogRates;
  /** The model's VRAM estimate in GiB; null for a plain pod or a model that could not be sized. */
  requiredGib: number | null;
  /** The part of a GPU's VRAM a model may use (the model check's 90 %). */
  usableFraction?: number;
}

/** One way the launch can be placed now. */
export interface PlaceableOption {
  gpuType: string;
  gpuCount: number;
  tier: Tier;
  /** The user's hourly rate: per GPU-hour times the GPU count. */
  priceCentsPerHour: number;
  /** The most GPUs of this type free in one offer. */
  freeGpus: number;
  regions: string[];
}

/** Each chosen GPU type: placeable now and at what price, or the rule that stops it. */
export interface GpuChoice {
  gpuType: string;
  placeable: boolean;
  priceCentsPerHour: number | null;
  freeGpus: number;
  regions: string[];
  reason: string | null;
}

/** The GPU a launch gets when none was chosen: the cheapest that fits the model and is free now. */
export interface GpuPick {
  gpuType: string;
  gpuCount: number;
  priceCentsPerHour: number;
  /** "cheapest free GPU with ≥ 6 GiB" */
  why: string;
}

/** The launch field a person changes to make it placeable. */
export type PlaceabilityField = "gpuPreferences" | "gpuCount" | "allowedRegions" | "tier" | "minVramGib" | "maxPriceCentsPerHour" | "placementMode";

export interface Placeability {
  placeable: boolean;
  /** The GPU types it was judged on: the chosen ones, or the pick. */
  gpuPreferences: string[];
  picked: GpuPick | null;
  /** Where the scheduler would place it now. */
  best: (PlaceableOption & { providerId: string; region: string }) | null;
  choices: GpuChoice[];
  /** The one reason it cannot be placed ("No L4 is free right now."), and the field to change. */
  reason: string | null;
  field: PlaceabilityField | null;
  /** What can be placed now instead, the closest change first; empty when placeable. */
  alternatives: PlaceableOption[];
  /** The reason with the first alternative: "No L4 is free right now; 1 A100-80G is, at €2.47/h." */
  message: string | null;
}

const DEFAULT_USABLE_FRACTION = 0.9;

export function placeability(input: PlaceabilityInput): Placeability {
  const c = input.constraints;
  const picked = c.gpuPreferences.length === 0 ? pickGpu(input) : null;
  const gpuPreferences = picked ? [picked.gpuType] : c.gpuPreferences;
  if (gpuPreferences.length === 0) {
    // Nothing chosen and nothing fits that is free: say what the pick looked for.
    const reason = `No GPU${minimumPhrase(input)} is free right now${scopePhrase(c)}.`;
    return unplaceable(input, gpuPreferences, [], reason, "gpuPreferences");
  }

  const constraints = { ...c, gpuPreferences, pricing: snapshotFor(input.rates, c.tier, gpuPreferences, c.gpuCount) };
  const ranking = rankOffers(input.offers, constraints);
  const choices = gpuPreferences.map((gpuType) => choiceFor(gpuType, input.offers, ranking, constraints));
  const top = ranking.ranked[0];
  if (top) {
    const best = {
      ...optionOf(
        ranking.ranked.filter((r) => r.offer.gpuType === top.offer.gpuType),
        c,
      ),
      providerId: top.offer.providerId,
      region: top.offer.region,
    };
    return { placeable: true, gpuPreferences, picked, best, choices, reason: null, field: null, alternatives: [], message: null };
  }
  const lead = leadingReason(input.offers, ranking.rejected, constraints);
  return unplaceable(input, gpuPreferences, choices, lead.reason, lead.field);
}

function unplaceable(input: PlaceabilityInput, gpuPreferences: string[], choices: GpuChoice[], reason: string, field: PlaceabilityField): Placeability {
  const alternatives = alternativesFor(input, gpuPreferences);
  const first = alternatives[0];
  const message = first ? `${reason.replace(/\.$/, "")}; ${offerPhrase(first, input.constraints.tier)}.` : reason;
  return { placeable: false, gpuPreferences, picked: null, best: null, choices, reason, field, alternatives, message };
}

/** "1 A100-80G is, at €2.47/h", "2 L40S are in the community tier, at €1.74/h". */
export function offerPhrase(option: PlaceableOption, tier: Tier): string {
  const where = option.tier === tier ? "" : ` in the ${option.tier} tier`;
  return `${option.gpuCount} ${option.gpuType} ${option.gpuCount === 1 ? "is" : "are"}${where}, at ${formatEur(option.priceCentsPerHour)}/h`;
}

/**
 * The cheapest GPU type that fits the model (at the chosen GPU count) and can be
 * placed now under the other constraints; ties go to the smaller card, then the id.
 */
export function pickGpu(input: PlaceabilityInput): GpuPick | null {
  const [best] = optionsFor(input, input.constraints.tier, gpuTypesOf(input.offers));
  if (!best) return null;
  return {
    gpuType: best.gpuType,
    gpuCount: best.gpuCount,
    priceCentsPerHour: best.priceCentsPerHour,
    why: `cheapest free GPU${minimumPhrase(input)}`,
  };
}

/** What can be placed now instead: other GPU types in the chosen tier first, then the other tier; cheapest first within each. */
function alternativesFor(input: PlaceabilityInput, chosen: string[]): PlaceableOption[] {
  const c = input.constraints;
  const other: Tier = c.tier === "secure" ? "community" : "secure";
  const types = gpuTypesOf(input.offers);
  const sameTier = optionsFor(input, c.tier, types).filter((o) => !chosen.includes(o.gpuType));
  const otherTier = optionsFor(input, other, chosen.length ? types.filter((t) => chosen.includes(t)) : types);
  return [...sameTier, ...otherTier].slice(0, 3);
}

/** Every GPU type among `types` that fits the model and is placeable now in `tier`, cheapest first. */
function optionsFor(input: PlaceabilityInput, tier: Tier, types: string[]): PlaceableOption[] {
  const c = input.constraints;
  const options: (PlaceableOption & { vramGib: number })[] = [];
  for (const gpuType of types) {
    const vramGib = Math.max(...input.offers.filter((o) => o.gpuType === gpuType).map((o) => o.vramGib));
    if (!fits(input, vramGib)) continue;
    const constraints = { ...c, tier, gpuPreferences: [gpuType], pricing: snapshotFor(input.rates, tier, [gpuType], c.gpuCount) };
    const { ranked } = rankOffers(input.offers, constraints);
    if (ranked.length > 0) options.push({ ...optionOf(ranked, constraints), vramGib });
  }
  options.sort((a, b) => a.priceCentsPerHour - b.priceCentsPerHour || a.vramGib - b.vramGib || (a.gpuType < b.gpuType ? -1 : 1));
  return options.map(({ vramGib: _, ...option }) => option);
}

type Ranked = ReturnType<typeof rankOffers>["ranked"];

/** The offers of one GPU type that may host the launch, as one option: they share the type's price. */
function optionOf(ranked: Ranked, c: { tier: Tier; gpuCount: number }): PlaceableOption {
  const first = ranked[0]!;
  return {
    gpuType: first.offer.gpuType,
    gpuCount: c.gpuCount,
    tier: c.tier,
    priceCentsPerHour: first.priceCentsPerHour,
    freeGpus: Math.max(...ranked.map((r) => r.offer.availableGpus)),
    regions: unique(ranked.map((r) => r.offer.region)),
  };
}

function choiceFor(gpuType: string, offers: readonly Offer[], ranking: ReturnType<typeof rankOffers>, c: PlacementConstraints): GpuChoice {
  const placed = ranking.ranked.filter((r) => r.offer.gpuType === gpuType);
  if (placed.length > 0) {
    const option = optionOf(placed, c);
    return { gpuType, placeable: true, priceCentsPerHour: option.priceCentsPerHour, freeGpus: option.freeGpus, regions: option.regions, reason: null };
  }
  const price = c.pricing.rows.find((r) => r.gpuType === gpuType);
  return {
    gpuType,
    placeable: false,
    priceCentsPerHour: price ? price.rateCentsPerGpuHour * c.gpuCount : null,
    freeGpus: 0,
    regions: [],
    reason: leadingReason(
      offers,
      ranking.rejected.filter((r) => r.offer.gpuType === gpuType),
      { ...c, gpuPreferences: [gpuType] },
    ).reason,
  };
}

/**
 * The one reason that matters, in the user's words: the rule broken by the
 * offers that came closest (passed the most rules) among the chosen GPU types.
 * Each offer's own rule-out stays in the stored decision; people get this.
 */
export function leadingReason(
  offers: readonly Offer[],
  rejected: readonly Pick<RejectedOffer, "offer" | "rule">[],
  c: PlacementConstraints,
): { reason: string; field: PlaceabilityField } {
  if (offers.length === 0) return { reason: "No provider offers capacity right now.", field: "gpuPreferences" };
  const depth = (rule: PlacementRule) => placementRules.indexOf(rule);
  const closest = Math.max(...rejected.map((r) => depth(r.rule)));
  const near = rejected.filter((r) => depth(r.rule) === closest);
  const rule = near[0]?.rule ?? "gpu";
  // Named in preference order: "No L4 or L40S is free right now."
  const gpus = c.gpuPreferences.filter((g) => near.some((r) => r.offer.gpuType === g));
  const names = (gpus.length ? gpus : c.gpuPreferences).join(" or ");
  const n = c.gpuCount;
  switch (rule) {
    case "provider":
      return { reason: `Pinned to provider ${c.pinnedProviderId}, which has no capacity that fits right now.`, field: "placementMode" };
    case "gpu":
      return { reason: `No provider offers ${c.gpuPreferences.join(" or ")}.`, field: "gpuPreferences" };
    case "region": {
      const elsewhere = unique(offers.filter((o) => c.gpuPreferences.includes(o.gpuType)).map((o) => o.region));
      return {
        reason: `No ${names} is offered in ${c.allowedRegions.join(" or ")}; there is ${names} in ${elsewhere.join(", ")}.`,
        field: "allowedRegions",
      };
    }
    case "tier":
      return { reason: `No ${names} is offered in the ${c.tier} tier.`, field: "tier" };
    case "perPod": {
      const most = Math.max(...near.map((r) => r.offer.gpuCount));
      return { reason: `${names} comes at most ${most} to a pod; ${n} asked for.`, field: "gpuCount" };
    }
    case "free": {
      const free = Math.max(...near.map((r) => r.offer.availableGpus));
      const reason = free === 0 ? `No ${names} is free right now.` : `Only ${free} ${names} ${free === 1 ? "is" : "are"} free right now, ${n} needed.`;
      return { reason, field: "gpuPreferences" };
    }
    case "vram": {
      const most = Math.max(...near.map((r) => r.offer.vramGib * n));
      return { reason: `${n}×${names} has ${most} GiB of VRAM; at least ${c.minVramGib} GiB asked for.`, field: "minVramGib" };
    }
    case "price":
      return { reason: `There is no ${c.tier} price for ${names}.`, field: "gpuPreferences" };
    case "loss":
      return { reason: `No ${names} is available at the ${c.tier} price right now.`, field: "gpuPreferences" };
    case "maxPrice": {
      const cheapest = Math.min(...near.map((r) => (c.pricing.rows.find((p) => p.gpuType === r.offer.gpuType)?.rateCentsPerGpuHour ?? 0) * n));
      return {
        reason: `${n}×${names} costs ${formatEur(cheapest)}/h, above your maximum of ${formatEur(c.maxPriceCentsPerHour ?? 0)}/h.`,
        field: "maxPriceCentsPerHour",
      };
    }
  }
}

/** The snapshot a launch would lock now, from the catalog's rows: rankOffers prices offers from it. */
export function snapshotFor(rates: CatalogRates, tier: Tier, gpuTypes: string[], gpuCount: number): PricingSnapshot {
  return {
    lockedAt: "",
    modelClass: rates.modelClass,
    tier,
    gpuCount,
    rows: gpuTypes.flatMap((gpuType) => {
      const row = rates.rows.find((r) => r.gpuType === gpuType && r.tier === tier);
      return row
        ? [{ gpuType, rateCentsPerGpuHour: row.rateCentsPerGpuHour, providerCostCentsPerGpuHour: row.providerCostCentsPerGpuHour, catalogUpdatedAt: "" }]
        : [];
    }),
  };
}

function fits(input: PlaceabilityInput, vramGib: number): boolean {
  return input.requiredGib === null || vramGib * input.constraints.gpuCount * (input.usableFraction ?? DEFAULT_USABLE_FRACTION) >= input.requiredGib;
}

/** " with ≥ 6 GiB": the VRAM per GPU the model needs at the chosen count, or "" when it needs no particular amount. */
function minimumPhrase(input: PlaceabilityInput): string {
  if (input.requiredGib === null) return "";
  const perGpu = Math.ceil(input.requiredGib / ((input.usableFraction ?? DEFAULT_USABLE_FRACTION) * input.constraints.gpuCount));
  return ` with ≥ ${perGpu} GiB`;
}

function scopePhrase(c: PlaceabilityConstraints): string {
  const regions = c.allowedRegions.length ? ` in ${c.allowedRegions.join(" or ")}` : "";
  return `${regions} in the ${c.tier} tier`;
}

function gpuTypesOf(offers: readonly Offer[]): string[] {
  return unique(offers.map((o) => o.gpuType));
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

import { and, eq, inArray } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { type PricingSnapshot, prices } from "../../db/schema";
import { InvalidInputError } from "../errors";
import type { CatalogRates } from "../scheduler/placeability";

import type { ModelClass } from "./model-class";

export { LARGE_MODEL_PARAMETERS, type ModelClass, modelClassFor } from "./model-class";
export type Tier = PricingSnapshot["tier"];

/**
 * Copies the catalog prices of every GPU type the instance may run on. From
 * here on the instance is billed from this snapshot only; the catalog may change.
 */
export async function lockPricing(
  db: Executor,
  request: { modelClass: ModelClass; tier: Tier; gpuPreferences: string[]; gpuCount: number },
  now = new Date(),
): Promise<PricingSnapshot> {
  const rows = await db
    .select()
    .from(prices)
    .where(and(eq(prices.modelClass, request.modelClass), eq(prices.tier, request.tier), inArray(prices.gpuTypeId, request.gpuPreferences)));
  const missing = request.gpuPreferences.filter((gpu) => !rows.some((row) => row.gpuTypeId === gpu));
  if (missing.length) {
    throw new InvalidInputError(`No ${request.tier} price for ${missing.join(", ")}. Pick GPU types from the catalog.`, "gpuPreferences");
  }
  return {
    lockedAt: now.toISOString(),
    modelClass: request.modelClass,
    tier: request.tier,
    gpuCount: request.gpuCount,
    rows: request.gpuPreferences.map((gpu) => {
      const row = rows.find((r) => r.gpuTypeId === gpu)!;
      return {
        gpuType: gpu,
        rateCentsPerGpuHour: row.rateCentsPerGpuHour,
        providerCostCentsPerGpuHour: row.providerCostCentsPerGpuHour,
        catalogUpdatedAt: row.updatedAt.toISOString(),
      };
    }),
  };
}

/** Every GPU type's catalog price in both tiers for `modelClass`: what a launch of that class would lock now. */
export async function catalogRates(db: Executor, modelClass: ModelClass): Promise<CatalogRates> {
  const rows = await db.select().from(prices).where(eq(prices.modelClass, modelClass));
  return {
    modelClass,
    rows: rows.map((row) => ({
      gpuType: row.gpuTypeId,
      tier: row.tier,
      rateCentsPerGpuHour: row.rateCentsPerGpuHour,
      providerCostCentsPerGpuHour: row.providerCostCentsPerGpuHour,
    })),
  };
}

/** The instance's hourly rate on `gpuType`, from its snapshot; null when the snapshot has no such GPU. */
export function hourlyRate(snapshot: PricingSnapshot, gpuType: string): number | null {
  const row = snapshot.rows.find((r) => r.gpuType === gpuType);
  return row ? row.rateCentsPerGpuHour * snapshot.gpuCount : null;
}

/** The most the instance can cost per hour: what the launch's runway check uses. */
export function maxHourlyRate(snapshot: PricingSnapshot): number {
  return Math.max(...snapshot.rows.map((r) => r.rateCentsPerGpuHour)) * snapshot.gpuCount;
}

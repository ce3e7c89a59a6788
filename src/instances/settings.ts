import { eq, sql } from "drizzle-orm";
import { instances } from "../../db/schema";
import { recordAudit } from "../audit/record";
import { type AccountContext, withTransaction } from "../context";
import { ConflictError, InvalidInputError } from "../errors";
import { isUniqueViolation } from "../platform/pg-errors";
import { lockPricing } from "../pricing/snapshot";
import { getInstance } from "./queries";
import type { SettingsInput } from "./schemas";
import type { Instance } from "./transition";

/**
 * Settings: name, description, serving name, GPU preferences and smart
 * constraints. Placement changes take effect at the next Start. A GPU type
 * newly allowed gets its price locked now; the ones already in the snapshot keep theirs.
 */
export async function updateSettings(ctx: AccountContext, instanceId: string, input: SettingsInput): Promise<Instance> {
  try {
    return await withTransaction(ctx.db, async (tx) => {
      const instance = await getInstance({ ...ctx, db: tx }, instanceId, { lock: true });
      if (input.servingName !== undefined && instance.servingName === null) {
        throw new InvalidInputError("This instance is a plain pod: it serves no model, so it has no serving name.", "servingName");
      }
      let pricingSnapshot = instance.pricingSnapshot;
      if (input.gpuPreferences) {
        const added = input.gpuPreferences.filter((gpu) => !pricingSnapshot.rows.some((row) => row.gpuType === gpu));
        if (added.length) {
          const fresh = await lockPricing(tx, {
            modelClass: pricingSnapshot.modelClass,
            tier: pricingSnapshot.tier,
            gpuPreferences: added,
            gpuCount: pricingSnapshot.gpuCount,
          });
          pricingSnapshot = { ...pricingSnapshot, rows: [...pricingSnapshot.rows, ...fresh.rows] };
        }
      }
      const [updated] = await tx
        .update(instances)
        .set({
          ...(input.name !== undefined && { name: input.name || null }),
          ...(input.description !== undefined && { description: input.description || null }),
          ...(input.servingName !== undefined && { servingName: input.servingName }),
          ...(input.gpuPreferences && { gpuPreferences: input.gpuPreferences, pricingSnapshot }),
          ...(input.allowedRegions && { allowedRegions: input.allowedRegions }),
          ...(input.maxPriceCentsPerHour !== undefined && { maxPriceCentsPerHour: input.maxPriceCentsPerHour }),
          ...(input.placementMode && { placementMode: input.placementMode }),
          ...(input.minVramGib !== undefined && { minVramGib: input.minVramGib }),
          updatedAt: sql`now()`,
        })
        .where(eq(instances.id, instance.id))
        .returning();
      await recordAudit({ ...ctx, db: tx }, { kind: "instance.settings_changed", subjectId: instance.id, changes: changedFields(instance, updated!, input) });
      return updated!;
    });
  } catch (error) {
    if (isUniqueViolation(error, "instances_account_serving_name_key")) {
      throw new ConflictError(`The serving name '${input.servingName}' is already used by another instance of this account.`, "servingName");
    }
    throw error;
  }
}

/** The settings the input named, as they were and as they are: only those whose value changed. */
function changedFields(before: Instance, after: Instance, input: SettingsInput) {
  const changes = { before: {} as Record<string, unknown>, after: {} as Record<string, unknown> };
  for (const field of Object.keys(input) as (keyof SettingsInput)[]) {
    if (!(field in after) || input[field] === undefined) continue;
    const [was, is] = [before[field as keyof Instance], after[field as keyof Instance]];
    if (JSON.stringify(was) === JSON.stringify(is)) continue;
    changes.before[field] = was ?? null;
    changes.after[field] = is ?? null;
  }
  return changes;
}

import { asc } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { gpuTypes, prices, runtimes, templates } from "../../db/schema";

export type Runtime = typeof runtimes.$inferSelect;
export type Template = typeof templates.$inferSelect;

/** The whole catalog, for the Launch page and `qdz instances launch`. */
export async function readCatalog(db: Executor) {
  const [gpus, runtimeRows, templateRows, priceRows] = await Promise.all([
    db.select().from(gpuTypes).orderBy(asc(gpuTypes.vramGib), asc(gpuTypes.id)),
    db.select().from(runtimes).orderBy(asc(runtimes.id)),
    db.select().from(templates).orderBy(asc(templates.position)),
    // What the capacity costs the platform (providerCostCentsPerGpuHour) is for the operator: customers read this catalog.
    db
      .select({
        gpuTypeId: prices.gpuTypeId,
        tier: prices.tier,
        modelClass: prices.modelClass,
        rateCentsPerGpuHour: prices.rateCentsPerGpuHour,
        updatedAt: prices.updatedAt,
      })
      .from(prices),
  ]);
  return { gpus, runtimes: runtimeRows, templates: templateRows, prices: priceRows };
}

export type Catalog = Awaited<ReturnType<typeof readCatalog>>;

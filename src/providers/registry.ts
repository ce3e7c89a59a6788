import { join } from "node:path";
import { eq } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { gpuTypes, prices } from "../../db/schema";
import type { Config } from "../config";
import { parseInventory } from "./local/inventory";
import { LocalProvider } from "./local/local-provider";
import type { Provider } from "./provider";

/** The providers this deployment places pods on: the local machine by default. */
export async function buildProviders(db: Executor, config: Config): Promise<Provider[]> {
  const gpus = await db.select().from(gpuTypes);
  const costs = await db.select().from(prices).where(eq(prices.modelClass, "pod"));
  const cost = (gpu: string, tier: "secure" | "community") => costs.find((p) => p.gpuTypeId === gpu && p.tier === tier)?.providerCostCentsPerGpuHour ?? 0;
  const inventory = parseInventory(
    config.LOCAL_GPUS,
    gpus.map((g) => ({ id: g.id, vramGib: g.vramGib, cost: { secure: cost(g.id, "secure"), community: cost(g.id, "community") } })),
  );
  return [new LocalProvider({ podsDir: join(config.QDZ_DATA_DIR, "pods"), inventory, referenceBootMs: config.LOCAL_REFERENCE_BOOT_MS })];
}

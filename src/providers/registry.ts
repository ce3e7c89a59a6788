import { join } from "node:path";
import { eq } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { gpuTypes, prices } from "../../db/schema";
import type { Config } from "../config";
import { EuroPricedProvider } from "./currency";
import { kubernetesOptionsFromEnv } from "./kubernetes/options";
import { LambdaProvider } from "./lambda/lambda-provider";
import { lambdaOptionsFromEnv } from "./lambda/options";
import { parseInventory } from "./local/inventory";
import { LocalProvider } from "./local/local-provider";
import { machineLock } from "./local/machine-lock";
import { offersCacheFor } from "./offers";
import { runpodOptionsFromEnv } from "./runpod/options";
import { RunPodProvider } from "./runpod/runpod-provider";
import type { Provider } from "./seam";
import { vastOptionsFromEnv } from "./vast/options";
import { VastProvider } from "./vast/vast-provider";

/**
 * The providers this deployment places pods on: the local machine (unless `LOCAL_GPUS` is empty), and each
 * cloud or cluster whose settings are present (a provider without them is off). Clouds that price in dollars are
 * seen in euros. Their offers are kept by one background cache per process (`currentOffers`).
 */
export async function buildProviders(db: Executor, config: Config, env: Record<string, string | undefined> = process.env): Promise<Provider[]> {
  const gpus = await db.select().from(gpuTypes);
  const costs = await db.select().from(prices).where(eq(prices.modelClass, "pod"));
  const cost = (gpu: string, tier: "secure" | "community") => costs.find((p) => p.gpuTypeId === gpu && p.tier === tier)?.providerCostCentsPerGpuHour ?? 0;
  const catalog = gpus.map((g) => ({ id: g.id, vramGib: g.vramGib, cost: { secure: cost(g.id, "secure"), community: cost(g.id, "community") } }));
  const providers: Provider[] = [];

  const inventory = parseInventory(config.LOCAL_GPUS, catalog);
  if (inventory.length > 0) {
    const podsDir = join(config.QDZ_DATA_DIR, "pods");
    providers.push(new LocalProvider({ podsDir, inventory, referenceBootMs: config.LOCAL_REFERENCE_BOOT_MS, exclusive: machineLock(db, podsDir) }));
  }
  const inDollars = (provider: Provider) => new EuroPricedProvider(provider, config.USD_TO_EUR);
  const runpod = runpodOptionsFromEnv(env);
  if (runpod) providers.push(inDollars(new RunPodProvider(runpod)));
  const vast = vastOptionsFromEnv(env);
  if (vast) providers.push(inDollars(new VastProvider(vast)));
  const lambda = lambdaOptionsFromEnv(env);
  if (lambda) providers.push(inDollars(new LambdaProvider(lambda)));
  const kubernetes = kubernetesOptionsFromEnv(env);
  if (kubernetes) {
    // Loaded only when configured: the client is large, and a deployment without a cluster never pays for it.
    const { KubernetesProvider } = await import("./kubernetes/kubernetes-provider");
    providers.push(new KubernetesProvider({ ...kubernetes, gpus: catalog }));
  }
  offersCacheFor(providers, { refreshMs: config.OFFERS_REFRESH_SECONDS * 1000 });
  return providers;
}

/** The one lookup of a provider by id; undefined when this deployment does not configure it (or the run has none). */
export function findProvider<P extends { id: string }>(providers: readonly P[], id: string | null | undefined): P | undefined {
  return id ? providers.find((p) => p.id === id) : undefined;
}

/** `findProvider` where one must exist: a run on a provider this deployment no longer configures is an operator's problem, said plainly. */
export function providerById<P extends { id: string }>(providers: readonly P[], id: string): P {
  const provider = findProvider(providers, id);
  if (!provider) throw new Error(`provider '${id}' is not configured in this deployment`);
  return provider;
}

import { z } from "zod";

/** One kind of virtual GPU the local provider offers. */
export interface LocalGpu {
  gpuType: string;
  count: number;
  vramGib: number;
  /** What this capacity "costs" per GPU-hour by tier, for the scheduler's ranking. */
  providerCostCentsPerGpuHour: { secure: number; community: number };
}

const entry = z.string().regex(/^[A-Za-z0-9._-]+:\d+$/, { message: "use GPU:COUNT, e.g. L4:2" });

/** Parses `LOCAL_GPUS` ("L4:2,A100-80G:2") against the catalog's GPU types and costs. */
export function parseInventory(text: string, catalog: { id: string; vramGib: number; cost: { secure: number; community: number } }[]): LocalGpu[] {
  // "none": this machine runs no pods (a deployment whose capacity is a cluster or the clouds).
  if (text.trim() === "none") return [];
  return text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      entry.parse(part);
      const [gpuType, count] = part.split(":") as [string, string];
      const known = catalog.find((gpu) => gpu.id === gpuType);
      if (!known) throw new Error(`LOCAL_GPUS names ${gpuType}, which is not in the catalog (${catalog.map((g) => g.id).join(", ")})`);
      return { gpuType, count: Number(count), vramGib: known.vramGib, providerCostCentsPerGpuHour: known.cost };
    });
}

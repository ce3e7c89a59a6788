/** Capacity a provider can give now: one kind of machine in one region and tier. */
export interface Offer {
  /** Unique within the provider, stable for a given capacity (e.g. `local/A100-80G/local/secure`). */
  id: string;
  providerId: string;
  gpuType: string;
  /** GPUs one pod can have on this capacity. */
  gpuCount: number;
  /** Per GPU. */
  vramGib: number;
  region: string;
  tier: "secure" | "community";
  /** What the capacity costs us per GPU-hour; never the user's price. */
  providerCostCentsPerGpuHour: number;
  /** GPUs free right now. */
  availableGpus: number;
  /** Measured round trip from the control plane to the provider, in ms. */
  latencyMs: number;
  /** Seconds since the provider gave it, for offers read from the cache; absent for offers asked live. */
  ageSeconds?: number;
}

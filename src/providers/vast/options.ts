/** How the Vast.ai adapter is set up, and reading that from the environment. */

/** A platform GPU type as Vast names it: any of `names` (Vast's `gpu_name`), with at least `minGpuRamMb` per GPU. */
export interface VastGpuMapping {
  names: string[];
  /** Tells memory variants apart that Vast names alike (A100 40 GB and 80 GB are both `A100 SXM4`). */
  minGpuRamMb?: number;
}

export interface VastOptions {
  apiKey: string;
  /** Defaults to the reference's server, https://console.vast.ai. */
  baseUrl?: string;
  /** Every instance's label starts with it (then the pod id): `pods()` finds the platform's instances by it. */
  labelPrefix?: string;
  /** Catalog GPU type id → Vast's names for it; types not listed are never offered. */
  gpuTypes?: Record<string, VastGpuMapping>;
  /** GB of disk each instance gets (Vast's `disk`); searches price it in. */
  diskGib?: number;
  /** Bid this fraction above an offer's `min_bid` (0.1 = 10 %), so a new bid is not the first one outbid. */
  bidMargin?: number;
  /** Asks grouped into one offer cost at most this fraction above the cheapest; the offer quotes the dearest. */
  priceBand?: number;
  /** How long the asks behind an offer are trusted before provision searches again. */
  askTtlMs?: number;
  /** Asks of one offer tried in turn when one is rented away under us. */
  maxRentAttempts?: number;
  /** For tests. */
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  timeoutMs?: number;
}

/** The catalog's GPU types as Vast names them (its `gpu_name` values, as search answers spell them). */
export const DEFAULT_VAST_GPU_TYPES: Record<string, VastGpuMapping> = {
  L4: { names: ["L4"] },
  "A100-80G": { names: ["A100 SXM4", "A100 PCIE", "A100X"], minGpuRamMb: 79_000 },
  H100: { names: ["H100 SXM", "H100 PCIE", "H100 NVL"] },
  RTX4090: { names: ["RTX 4090"] },
};

/** The adapter's settings from the environment, or null when Vast is not configured (no `VAST_API_KEY`): the provider is off. */
export function vastOptionsFromEnv(env: Record<string, string | undefined>): VastOptions | null {
  const value = (name: string) => (env[name]?.trim() ? env[name]?.trim() : undefined);
  const apiKey = value("VAST_API_KEY");
  if (!apiKey) return null;
  const number = (name: string, min: number, max: number): number | undefined => {
    const raw = value(name);
    if (raw === undefined) return undefined;
    const parsed = Number(raw);
    if (!Number.isFinite(parsed) || parsed < min || parsed > max) throw new Error(`${name} must be a number from ${min} to ${max}, not "${raw}"`);
    return parsed;
  };
  const baseUrl = value("VAST_API_URL");
  if (baseUrl !== undefined && !URL.canParse(baseUrl)) throw new Error(`VAST_API_URL must be a URL, not "${baseUrl}"`);
  const margin = number("VAST_BID_MARGIN_PERCENT", 0, 500);
  return {
    apiKey,
    baseUrl,
    labelPrefix: value("VAST_LABEL_PREFIX"),
    diskGib: number("VAST_DISK_GIB", 1, 10_000),
    bidMargin: margin === undefined ? undefined : margin / 100,
  };
}

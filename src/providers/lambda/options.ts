import type { CloudHttpOptions } from "../http";

export interface LambdaOptions {
  apiKey: string;
  /** The API's server (the reference's `servers` entry); paths start with /api/v1. A test points it at a local server. */
  baseUrl?: string;
  /** Instances are named this, then the platform's pod id (see `instance-name.ts`): how `pods()` finds ours. */
  namePrefix?: string;
  /**
   * The platform's catalog GPU ids to Lambda's GPU models, as they appear in instance type names after the count
   * (`gpu_8x_h100_sxm5` → `h100_sxm5`); a type not listed is never offered.
   */
  gpuTypes?: Record<string, string[]>;
  /**
   * The account's SSH key every instance is launched with (Lambda requires exactly one). Unset: the account's first key.
   * Users' own keys are added by cloud-init, not through Lambda's key list.
   */
  sshKeyName?: string;
  /** Launches are at most one per this many ms, across the process (Lambda: one per 10 s; its newer reference: 12 s). */
  launchIntervalMs?: number;
  /** For tests: the clock the launch pacing reads, and what waits. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  http?: Pick<CloudHttpOptions, "timeoutMs" | "maxRetries" | "backoffMs" | "maxBackoffMs">;
}

/** Lambda's GPU models for the platform's catalog GPUs (instance type names list `gpu_1x_a100` as 40 GB PCIe, `gpu_8x_a100` as 40 GB SXM4). */
export const defaultLambdaGpuTypes: Record<string, string[]> = {
  "A100-40G": ["a100", "a100_sxm4"],
  "A100-80G": ["a100_80gb_sxm4"],
  "H100-80G": ["h100_sxm5"],
};

export const DEFAULT_LAMBDA_API_URL = "https://cloud.lambdalabs.com";

/** Lambda's settings from the environment, or null when no key is set (the provider is off). Empty strings count as unset. */
export function lambdaOptionsFromEnv(env: Record<string, string | undefined>): LambdaOptions | null {
  const apiKey = env.LAMBDA_API_KEY?.trim();
  if (!apiKey) return null;
  const baseUrl = env.LAMBDA_API_URL?.trim() || undefined;
  if (baseUrl !== undefined && !URL.canParse(baseUrl)) throw new Error(`LAMBDA_API_URL must be a URL, not "${baseUrl}"`);
  return { apiKey, baseUrl };
}

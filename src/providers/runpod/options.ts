import type { CloudHttpOptions } from "../http";

export interface RunPodOptions {
  apiKey: string;
  /** The API's server (the reference's `servers` entry); paths start with /v2. A test points it at a local server. */
  baseUrl?: string;
  /** Pods are named this followed by the platform's pod id, which is how `pods()` tells ours from the account's others. */
  namePrefix?: string;
  /** The platform's catalog GPU ids (`L4`, `A100-80G`, …) to RunPod's GPU type ids; a type not listed is never offered. */
  gpuTypes?: Record<string, string>;
  /** Container disk per pod, in GB (ephemeral: the runtime's weights are downloaded into it). */
  containerDiskGb?: number;
  /** What waits between retries (a test passes one that only advances its clock). */
  sleep?: (ms: number) => Promise<void>;
  /** HTTP tuning (timeouts, retries on 429); the defaults are CloudHttp's. */
  http?: Pick<CloudHttpOptions, "timeoutMs" | "maxRetries" | "backoffMs" | "maxBackoffMs">;
}

/**
 * RunPod's GPU type ids for the platform's catalog GPUs, from RunPod's catalog naming (`GpuType.id`). One RunPod type
 * per platform type: where RunPod sells a GPU in two form factors the one named here is used.
 */
export const defaultRunPodGpuTypes: Record<string, string> = {
  L4: "NVIDIA L4",
  RTX4090: "NVIDIA GeForce RTX 4090",
  L40S: "NVIDIA L40S",
  "A100-80G": "NVIDIA A100 80GB PCIe",
  "H100-80G": "NVIDIA H100 80GB HBM3",
  "H200-141G": "NVIDIA H200",
};

export const DEFAULT_RUNPOD_API_URL = "https://api.runpod.io";

/** RunPod's settings from the environment, or null when no key is set (the provider is off). Empty strings count as unset. */
export function runpodOptionsFromEnv(env: Record<string, string | undefined>): RunPodOptions | null {
  const apiKey = env.RUNPOD_API_KEY?.trim();
  if (!apiKey) return null;
  const baseUrl = env.RUNPOD_API_URL?.trim() || undefined;
  if (baseUrl !== undefined && !URL.canParse(baseUrl)) throw new Error(`RUNPOD_API_URL must be a URL, not "${baseUrl}"`);
  return { apiKey, baseUrl };
}

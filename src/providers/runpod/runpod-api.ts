/**
 * The parts of RunPod's REST API 2.0 the adapter uses, as its reference defines them
 * (`api-reference-v2/openapi.json` in github.com/runpod/docs, info.version 2.0.0, server https://api.runpod.io):
 * schemas `GpuType`, `DataCenterAvailability`, `Pod`, `PodStatus`, `PodRuntimePort`, `CreatePodRequest`, `ErrorResponse`.
 * Shared by the adapter and the test server that speaks the same API, so the two cannot drift apart.
 */

/** `Cloud`: SECURE is RunPod's own data centres, COMMUNITY is hosts run by others. */
export type RunPodCloud = "SECURE" | "COMMUNITY";

/** `AvailabilityLevel`: the catalog publishes a level, never a count of free GPUs. */
export type RunPodAvailability = "NONE" | "LOW" | "MEDIUM" | "HIGH";

/** `GpuType`, as `GET /v2/catalog/gpus?include=AVAILABILITY` answers it (`availability` and `dataCenters` only with the include). */
export interface RunPodGpuType {
  /** What `CreatePodRequest.gpu.id` takes, e.g. "NVIDIA GeForce RTX 4090". */
  id: string;
  name: string;
  pool: string | null;
  manufacturer: "NVIDIA" | "AMD" | "UNKNOWN";
  /** VRAM in GB. */
  memory: number;
  secure: boolean;
  community: boolean;
  /** USD per GPU-hour, per cloud. */
  price: { secure: number; community: number };
  /** The most GPUs of this type one pod can have, per cloud. */
  maxCount: { secure: number; community: number };
  availability?: RunPodAvailability;
  dataCenters?: { id: string; name: string; availability: RunPodAvailability }[];
}

/** `PodStatus`: TERMINATED pods are deleted for good; EXITED ones keep their disk and cost nothing. */
export type RunPodPodStatus = "PROVISIONING" | "STARTING" | "RUNNING" | "EXITED" | "ERROR" | "TERMINATED";

/** `PodRuntimePort`: a live mapping, present once the pod runs; `public`/`ip` set for ports exposed directly (tcp). */
export interface RunPodRuntimePort {
  private?: number;
  public?: number | null;
  type?: string;
  ip?: string | null;
}

/** `Pod` (the fields the adapter reads; the reference requires more). */
export interface RunPodPod {
  id: string;
  name: string;
  status: RunPodPodStatus;
  image: string;
  args: string;
  /** "port/protocol", e.g. "8000/http". */
  ports: string[];
  env: Record<string, string>;
  gpu?: { id: string; count?: number };
  cloud: RunPodCloud;
  dataCenterId: string | null;
  cost: number;
  /** Null when the pod is not RUNNING. */
  runtime: { uptime?: number; ports?: RunPodRuntimePort[] } | null;
  createdAt: string;
  startedAt: string | null;
}

/** `CreatePodRequest` for a GPU pod (`ContainerConfig` spread in); the reference forbids any other property. */
export interface RunPodCreatePod {
  name: string;
  image: string;
  /** "Arguments passed to the container entrypoint", one string. */
  args?: string;
  /** Container disk in GB, wiped on restart. */
  disk?: number;
  ports?: string[];
  env?: Record<string, string>;
  gpu: { id: string; count: number };
  cloud?: RunPodCloud;
  dataCenterIds?: string[];
}

/** `ErrorResponse`: RFC 9457 problem details. */
export interface RunPodProblem {
  title: string;
  status: number;
  detail: string;
  errors?: string[];
}

import { createHash } from "node:crypto";

/** On every object the platform makes: how `pods()` and the watch find them, and nothing else's. */
export const MANAGED_BY = { key: "app.kubernetes.io/managed-by", value: "qdivzero" } as const;
export const MANAGED_SELECTOR = `${MANAGED_BY.key}=${MANAGED_BY.value}`;

export const LABEL_POD_ID = "qdz/pod-id";
export const LABEL_INSTANCE_ID = "qdz/instance-id";
export const LABEL_RUN_ID = "qdz/run-id";
/** The launch's ports (name and number) as JSON, so `status` can give the address from the pod alone. */
export const ANNOTATION_PORTS = "qdz/ports";

export const GPU_RESOURCE = "nvidia.com/gpu";
export const GPU_PRODUCT_LABEL = "nvidia.com/gpu.product";
export const GPU_MEMORY_LABEL = "nvidia.com/gpu.memory";
export const REGION_LABEL = "topology.kubernetes.io/region";

export const RUNTIME_CONTAINER = "runtime";
export const AGENT_CONTAINER = "agent";
export const TOKEN_KEY = "token";

/**
 * The name of a platform pod's Pod, Service and Secret: `qdz-` and its id made DNS-1123-safe (a Service name must
 * also start with a letter). Ids are case-sensitive base62 and names are lowercase, so a short hash of the id
 * itself keeps two ids that differ only in case apart.
 */
export function objectName(podId: string): string {
  const readable = podId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  const hash = createHash("sha256").update(podId).digest("hex").slice(0, 8);
  return `qdz-${readable ? `${readable}-` : ""}${hash}`;
}

/** A port's name as a Service accepts it (a DNS-1123 label, at most 15 characters, with a letter), unique in the pod. */
export function servicePortName(name: string, index: number): string {
  const safe = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 10)
    .replace(/-+$/, "");
  return /[a-z]/.test(safe) ? `${safe}-${index}` : `port-${index}`;
}

/** The cluster DNS name a Service answers on inside the cluster. */
export function serviceHost(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.cluster.local`;
}

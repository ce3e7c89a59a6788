import { z } from "zod";

/**
 * How the platform reaches a Kubernetes cluster and reads its nodes. The cluster's service account needs, in
 * `namespace`: pods (create, get, list, watch, delete), pods/log (get), services and secrets (create, delete); and
 * cluster-wide: nodes (list) and pods (list), to count the GPUs other workloads already hold.
 */
export interface KubernetesOptions {
  /** A kubeconfig file (bearer-token users: client certificates are not sent under Bun), or the pod's own service account. */
  auth: { kubeconfig: string } | { inCluster: true };
  namespace: string;
  /** A node label whose community values mark capacity that may be taken back (a spot pool); null: every node is secure. */
  tierLabel: string | null;
  communityTierValues: string[];
  /** The sidecar agent's image (built from pods/agent/Dockerfile). */
  agentImage: string;
  /** `nvidia.com/gpu.product` label values to catalog GPU ids; nodes with a product not named here are not offered. */
  gpuProducts: Record<string, string>;
  /** The region of nodes without a `topology.kubernetes.io/region` label (a single-region or on-premises cluster). */
  defaultRegion: string;
  /** What the caller (the registry) knows per catalog GPU: VRAM when a node does not say, and what a GPU-hour costs us. */
  gpus: { id: string; vramGib: number; cost: { secure: number; community: number } }[];
  timing?: Partial<KubernetesTiming>;
}

export interface KubernetesTiming {
  /** Each API call is given this long before it counts as unreachable. */
  requestTimeoutMs: number;
  /** The first wait before re-listing after the pod watch failed; doubles up to `maxWatchBackoffMs`. */
  watchBackoffMs: number;
  maxWatchBackoffMs: number;
  /** How long the API server keeps one watch open before the adapter opens the next. */
  watchTimeoutSeconds: number;
  sleep: (ms: number) => Promise<void>;
  /** Stands in for a reclaim time the cluster did not record. */
  now: () => Date;
}

export const defaultTiming: KubernetesTiming = {
  requestTimeoutMs: 15_000,
  watchBackoffMs: 500,
  maxWatchBackoffMs: 30_000,
  watchTimeoutSeconds: 300,
  sleep: (ms) => Bun.sleep(ms),
  now: () => new Date(),
};

/**
 * Product names as NVIDIA's GPU feature discovery writes them (spaces become dashes), for the catalog's GPUs.
 * Extended, or overridden, by KUBERNETES_GPU_PRODUCTS.
 */
export const defaultGpuProducts: Record<string, string> = {
  "NVIDIA-L4": "L4",
  "NVIDIA-GeForce-RTX-4090": "RTX4090",
  "NVIDIA-A100-SXM4-40GB": "A100-40G",
  "NVIDIA-A100-PCIE-40GB": "A100-40G",
  "NVIDIA-L40S": "L40S",
  "NVIDIA-A100-SXM4-80GB": "A100-80G",
  "NVIDIA-A100-80GB-PCIe": "A100-80G",
  "NVIDIA-H100-80GB-HBM3": "H100-80G",
  "NVIDIA-H200": "H200-141G",
};

/** Label values that mark a spot or preemptible pool, as GKE (`cloud.google.com/gke-spot=true`), EKS (`SPOT`) and others write them. */
export const defaultCommunityTierValues = ["spot", "SPOT", "community", "preemptible", "true"];

const unsetIfEmpty = (value: unknown) => (value === "" ? undefined : value);
const optional = z.preprocess(unsetIfEmpty, z.string().trim().min(1).optional());
const list = (text: string | undefined) =>
  (text ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);

const envSchema = z.object({
  KUBERNETES_KUBECONFIG: optional,
  KUBECONFIG: optional,
  KUBERNETES_IN_CLUSTER: z.preprocess(unsetIfEmpty, z.enum(["0", "1", "true", "false"]).optional()),
  KUBERNETES_NAMESPACE: optional,
  KUBERNETES_TIER_LABEL: optional,
  KUBERNETES_COMMUNITY_TIER_VALUES: optional,
  KUBERNETES_AGENT_IMAGE: optional,
  KUBERNETES_GPU_PRODUCTS: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(/^\s*([^=,\s]+=[^=,\s]+\s*(,\s*|$))*$/, "use PRODUCT=GPU pairs, e.g. NVIDIA-L4=L4")
      .optional(),
  ),
  KUBERNETES_REGION: optional,
});

/**
 * The Kubernetes provider's settings from the environment, or null when no cluster is configured (neither
 * KUBERNETES_IN_CLUSTER nor a kubeconfig, or no KUBERNETES_NAMESPACE). The caller adds `gpus` from the catalog.
 * KUBECONFIG alone does not turn the provider on, since an operator's shell often has one for other reasons.
 */
export function kubernetesOptionsFromEnv(env: Record<string, string | undefined>): Omit<KubernetesOptions, "gpus"> | null {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new Error(`Kubernetes settings: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const e = parsed.data;
  const inCluster = e.KUBERNETES_IN_CLUSTER === "1" || e.KUBERNETES_IN_CLUSTER === "true";
  const kubeconfig = e.KUBERNETES_KUBECONFIG ?? e.KUBECONFIG;
  if (!e.KUBERNETES_NAMESPACE || (!inCluster && !kubeconfig)) return null;
  if (!e.KUBERNETES_AGENT_IMAGE)
    throw new Error("Kubernetes settings: KUBERNETES_AGENT_IMAGE is required (the sidecar agent's image, built from pods/agent/Dockerfile)");
  const products = Object.fromEntries(list(e.KUBERNETES_GPU_PRODUCTS).map((pair) => pair.split("=") as [string, string]));
  return {
    auth: inCluster ? { inCluster: true } : { kubeconfig: kubeconfig! },
    namespace: e.KUBERNETES_NAMESPACE,
    tierLabel: e.KUBERNETES_TIER_LABEL ?? null,
    communityTierValues: e.KUBERNETES_COMMUNITY_TIER_VALUES ? list(e.KUBERNETES_COMMUNITY_TIER_VALUES) : defaultCommunityTierValues,
    agentImage: e.KUBERNETES_AGENT_IMAGE,
    gpuProducts: { ...defaultGpuProducts, ...products },
    defaultRegion: e.KUBERNETES_REGION ?? "default",
  };
}

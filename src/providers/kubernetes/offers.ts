import type { V1Node, V1Pod, V1Taint, V1Toleration } from "@kubernetes/client-node";
import type { Offer } from "../../scheduler/offers";
import type { OfferQuery } from "../seam";
import { GPU_MEMORY_LABEL, GPU_PRODUCT_LABEL, GPU_RESOURCE, REGION_LABEL } from "./names";
import type { KubernetesOptions } from "./options";

/** One schedulable GPU node as placement sees it. */
export interface GpuNode {
  name: string;
  gpuType: string;
  region: string;
  tier: "secure" | "community";
  vramGib: number;
  allocatable: number;
  free: number;
}

type OfferSettings = Pick<KubernetesOptions, "gpuProducts" | "defaultRegion" | "tierLabel" | "communityTierValues" | "gpus">;

/**
 * The cluster's GPU nodes that could take a platform pod now: Ready, schedulable, without a taint the pod does not
 * tolerate, with a product the catalog knows; `free` is allocatable `nvidia.com/gpu` minus what the node's
 * non-terminated pods request (the API server lists Pending pods already bound to a node, so they count).
 */
export function gpuNodes(nodes: V1Node[], pods: V1Pod[], settings: OfferSettings, tolerations: V1Toleration[]): GpuNode[] {
  const requested = new Map<string, number>();
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    if (!node || pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") continue;
    requested.set(node, (requested.get(node) ?? 0) + podGpus(pod));
  }
  const result: GpuNode[] = [];
  for (const node of nodes) {
    const labels = node.metadata?.labels ?? {};
    const gpuType = settings.gpuProducts[labels[GPU_PRODUCT_LABEL] ?? ""];
    const catalog = settings.gpus.find((g) => g.id === gpuType);
    const allocatable = quantity(node.status?.allocatable?.[GPU_RESOURCE]);
    if (!gpuType || !catalog || allocatable <= 0 || !schedulable(node, tolerations)) continue;
    const name = node.metadata?.name ?? "";
    const memoryMib = Number(labels[GPU_MEMORY_LABEL]);
    result.push({
      name,
      gpuType,
      region: labels[REGION_LABEL] || settings.defaultRegion,
      tier: settings.tierLabel && settings.communityTierValues.includes(labels[settings.tierLabel] ?? "") ? "community" : "secure",
      vramGib: Number.isFinite(memoryMib) && memoryMib > 0 ? Math.round(memoryMib / 1024) : catalog.vramGib,
      allocatable,
      free: Math.max(0, allocatable - (requested.get(name) ?? 0)),
    });
  }
  return result;
}

/**
 * One offer per (GPU type, region, tier). A pod lands on one node, so `gpuCount` is the most one node has and
 * `availableGpus` the most one node has free: a pod of that many GPUs can start now, though the pool as a whole
 * may hold more free GPUs in smaller pieces. Offers that cannot host the query's GPU count are still returned, so
 * placement records why they were passed over.
 */
export function offersFrom(nodes: GpuNode[], query: OfferQuery, settings: OfferSettings, providerId: string, latencyMs: number): Offer[] {
  const offers = new Map<string, Offer>();
  for (const node of nodes) {
    if (query.gpuTypes.length > 0 && !query.gpuTypes.includes(node.gpuType)) continue;
    if (query.regions.length > 0 && !query.regions.includes(node.region)) continue;
    if (query.tier && query.tier !== node.tier) continue;
    const id = `${providerId}/${node.gpuType}/${node.region}/${node.tier}`;
    const offer = offers.get(id);
    if (offer) {
      offer.gpuCount = Math.max(offer.gpuCount, node.allocatable);
      offer.availableGpus = Math.max(offer.availableGpus, node.free);
      // Placement multiplies this by the GPU count: the smallest a node of this pool may have is the honest figure.
      offer.vramGib = Math.min(offer.vramGib, node.vramGib);
      continue;
    }
    const cost = settings.gpus.find((g) => g.id === node.gpuType)!.cost[node.tier];
    offers.set(id, {
      id,
      providerId,
      gpuType: node.gpuType,
      gpuCount: node.allocatable,
      vramGib: node.vramGib,
      region: node.region,
      tier: node.tier,
      providerCostCentsPerGpuHour: cost,
      availableGpus: node.free,
      latencyMs,
    });
  }
  return [...offers.values()];
}

/** A pod's GPUs: its containers' sum, or its largest init container's when that is more (as the scheduler counts). */
function podGpus(pod: V1Pod): number {
  const of = (c: { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }) =>
    quantity(c.resources?.requests?.[GPU_RESOURCE] ?? c.resources?.limits?.[GPU_RESOURCE]);
  const containers = (pod.spec?.containers ?? []).reduce((sum, c) => sum + of(c), 0);
  const init = Math.max(0, ...(pod.spec?.initContainers ?? []).map(of));
  return Math.max(containers, init);
}

function schedulable(node: V1Node, tolerations: V1Toleration[]): boolean {
  if (node.spec?.unschedulable) return false;
  const ready = node.status?.conditions?.find((c) => c.type === "Ready");
  if (ready?.status !== "True") return false;
  return (node.spec?.taints ?? []).every((taint) => taint.effect === "PreferNoSchedule" || tolerations.some((t) => tolerates(t, taint)));
}

function tolerates(toleration: V1Toleration, taint: V1Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (!toleration.key) return toleration.operator === "Exists";
  if (toleration.key !== taint.key) return false;
  return toleration.operator === "Exists" || (toleration.value ?? "") === (taint.value ?? "");
}

/** An extended resource's count ("4"); GPUs are whole, so anything else counts as none. */
function quantity(value: string | undefined): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

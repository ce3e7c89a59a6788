import type { V1ContainerStateTerminated, V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import { type PodAddress, type PodStatus, RUNTIME_PORT_NAME } from "../seam";
import { AGENT_CONTAINER, ANNOTATION_PORTS, RUNTIME_CONTAINER, serviceHost } from "./names";

/**
 * Why a pod went away that is the cluster's doing, not the run's: the kubelet evicting it under node pressure,
 * the scheduler preempting it for a higher-priority pod, a node (spot instance) shut down or lost.
 */
const RECLAIM_REASONS = new Set(["Evicted", "Preempting", "NodeLost", "NodeShutdown", "Shutdown", "Terminated"]);

/** Waiting reasons that no retry by the kubelet will cure. */
const FATAL_WAITING_REASONS = new Set(["InvalidImageName", "ErrImageNeverPull"]);

/** The run's state from its pod's phase, conditions and container states. */
export function podStatus(pod: V1Pod, now: () => Date): PodStatus {
  const status = pod.status ?? {};
  // Since Kubernetes 1.26 a pod the cluster takes back says so in this condition, with the time it decided.
  const disruption = status.conditions?.find((c) => c.type === "DisruptionTarget" && c.status === "True");
  if (disruption) {
    return { state: "reclaimed", at: toDate(disruption.lastTransitionTime) ?? now(), reason: words(disruption.reason, disruption.message) };
  }
  if (status.reason && RECLAIM_REASONS.has(status.reason)) {
    const finished = containerState(pod, RUNTIME_CONTAINER)?.state?.terminated?.finishedAt;
    return { state: "reclaimed", at: toDate(finished) ?? now(), reason: words(status.reason, status.message) };
  }
  const runtime = containerState(pod, RUNTIME_CONTAINER);
  const agent = containerState(pod, AGENT_CONTAINER);
  if (runtime?.state?.terminated) return { state: "exited", reason: exitReason(runtime.state.terminated) };
  if (status.phase === "Succeeded" || status.phase === "Failed") return { state: "exited", reason: words(status.reason ?? status.phase, status.message) };
  // Without its agent the run cannot report: the pod is as good as over.
  if (agent?.state?.terminated) return { state: "exited", reason: `the agent exited: ${exitReason(agent.state.terminated)}` };
  for (const container of [runtime, agent]) {
    const waiting = container?.state?.waiting;
    if (waiting?.reason && FATAL_WAITING_REASONS.has(waiting.reason)) return { state: "exited", reason: words(waiting.reason, waiting.message) };
  }
  const address = podAddress(pod);
  // Unknown: the node stopped reporting; its last word stands until the cluster decides (a DisruptionTarget, a deletion).
  if ((status.phase === "Running" || status.phase === "Unknown") && runtime?.ready) return { state: "running", address };
  // Pending (unscheduled, pulling, waiting for its secret) or Running but not yet ready.
  return { state: "starting", address };
}

/** Where the run's Service answers, from the ports the pod was made with. */
export function podAddress(pod: V1Pod): PodAddress {
  const host = serviceHost(pod.metadata?.name ?? "", pod.metadata?.namespace ?? "default");
  let ports: { name: string; port: number }[] = [];
  try {
    ports = JSON.parse(pod.metadata?.annotations?.[ANNOTATION_PORTS] ?? "[]");
  } catch {
    // someone edited the annotation: no address rather than a wrong one
  }
  const withUrls = ports.map((p) => ({ name: p.name, port: p.port, url: `http://${host}:${p.port}` }));
  return { runtimeUrl: withUrls.find((p) => p.name === RUNTIME_PORT_NAME)?.url ?? null, ports: withUrls };
}

/** "OOMKilled (exit code 137)", "Error (exit code 1): message". */
function exitReason(t: V1ContainerStateTerminated): string {
  return words(`${t.reason ?? "Exited"} (exit code ${t.exitCode}${t.signal ? `, signal ${t.signal}` : ""})`, t.message);
}

function containerState(pod: V1Pod, name: string): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((c) => c.name === name);
}

function words(reason: string | undefined, message: string | undefined): string {
  const text = [reason, message?.trim()].filter(Boolean).join(": ");
  return (text || "unknown").slice(0, 500);
}

/** The client gives Dates from its API calls and ISO strings from watch events. */
export function toDate(value: Date | string | undefined): Date | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

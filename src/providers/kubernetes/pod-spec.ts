import type { V1Affinity, V1EnvVar, V1NodeSelectorRequirement, V1OwnerReference, V1Pod, V1Secret, V1Service, V1Toleration } from "@kubernetes/client-node";
import type { Offer } from "../../scheduler/offers";
import { agentEnv, type PodLaunch, RUNTIME_PORT_NAME, sshKeysEnv } from "../seam";
import {
  AGENT_CONTAINER,
  ANNOTATION_PORTS,
  GPU_PRODUCT_LABEL,
  GPU_RESOURCE,
  LABEL_INSTANCE_ID,
  LABEL_POD_ID,
  LABEL_RUN_ID,
  MANAGED_BY,
  REGION_LABEL,
  RUNTIME_CONTAINER,
  servicePortName,
  TOKEN_KEY,
} from "./names";
import type { KubernetesOptions } from "./options";

type SpecSettings = Pick<KubernetesOptions, "agentImage" | "gpuProducts" | "defaultRegion" | "tierLabel" | "communityTierValues">;

/** GPU pools are commonly tainted `nvidia.com/gpu:NoSchedule`; spot pools often with their tier label's key. */
export function podTolerations(settings: Pick<KubernetesOptions, "tierLabel">): V1Toleration[] {
  return [{ key: GPU_RESOURCE, operator: "Exists" }, ...(settings.tierLabel ? [{ key: settings.tierLabel, operator: "Exists" }] : [])];
}

export function podLabels(launch: Pick<PodLaunch, "podId" | "instanceId" | "runId">): Record<string, string> {
  return { [MANAGED_BY.key]: MANAGED_BY.value, [LABEL_POD_ID]: launch.podId, [LABEL_INSTANCE_ID]: launch.instanceId, [LABEL_RUN_ID]: launch.runId };
}

/**
 * The run's Pod: the runtime container with the GPUs, and the sidecar agent that reports on it. The agent's token
 * is read from the run's Secret, so it is not in the pod's spec for anyone who can read pods; the runtime gets the
 * launch's environment without the agent's settings, which are the sidecar's.
 */
export function runPod(name: string, launch: PodLaunch, offer: Offer, settings: SpecSettings): V1Pod {
  const agentKeys = new Set(Object.keys(agentEnv(launch)));
  const runtimeEnv = [...Object.entries(launch.env).filter(([key]) => !agentKeys.has(key)), ...Object.entries(sshKeysEnv(launch))];
  const runtimePort = launch.ports.find((p) => p.name === RUNTIME_PORT_NAME);
  const agentVars: V1EnvVar[] = Object.entries(agentEnv(launch)).map(([key, value]) =>
    key === "QDZ_AGENT_TOKEN" ? { name: key, valueFrom: { secretKeyRef: { name, key: TOKEN_KEY } } } : { name: key, value },
  );
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      labels: podLabels(launch),
      annotations: { [ANNOTATION_PORTS]: JSON.stringify(launch.ports.map(({ name: portName, port }) => ({ name: portName, port }))) },
    },
    spec: {
      // The run ends with its runtime: the reconciler sees the exit and the platform decides what comes next.
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      nodeSelector: nodeSelector(offer, settings),
      affinity: nodeAffinity(offer, settings),
      tolerations: podTolerations(settings),
      containers: [
        {
          name: RUNTIME_CONTAINER,
          image: launch.image,
          // Like `docker run image argv…`: the image's entrypoint is kept and the rendered argv are its arguments.
          ...(launch.command ? { args: launch.command } : {}),
          env: runtimeEnv.map(([key, value]) => ({ name: key, value })),
          ports: launch.ports.map((p) => ({ containerPort: p.port, protocol: "TCP" })),
          resources: { limits: { [GPU_RESOURCE]: String(launch.gpuCount) } },
          ...(runtimePort && launch.healthPath
            ? { readinessProbe: { httpGet: { path: launch.healthPath, port: runtimePort.port }, periodSeconds: 5, failureThreshold: 3 } }
            : {}),
        },
        { name: AGENT_CONTAINER, image: settings.agentImage, env: agentVars },
      ],
    },
  };
}

/** The run's address inside the cluster: a ClusterIP Service on every port the launch names. */
export function runService(name: string, launch: PodLaunch, owner: V1OwnerReference): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, labels: podLabels(launch), ownerReferences: [owner] },
    spec: {
      type: "ClusterIP",
      selector: { [LABEL_POD_ID]: launch.podId },
      ports: launch.ports.map((p, i) => ({ name: servicePortName(p.name, i), port: p.port, targetPort: p.port, protocol: "TCP" })),
    },
  };
}

/** The agent's token; owned by the pod, so the cluster deletes it with the pod even if `stop` never comes. */
export function runSecret(name: string, launch: PodLaunch, owner: V1OwnerReference): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, labels: podLabels(launch), ownerReferences: [owner] },
    type: "Opaque",
    stringData: { [TOKEN_KEY]: launch.agent.token },
  };
}

export function ownedBy(pod: V1Pod): V1OwnerReference {
  return { apiVersion: "v1", kind: "Pod", name: pod.metadata!.name!, uid: pod.metadata!.uid!, blockOwnerDeletion: false };
}

/** The offer's region when its nodes carry one; the GPU product and the tier go through affinity. */
function nodeSelector(offer: Offer, settings: SpecSettings): Record<string, string> | undefined {
  return offer.region !== settings.defaultRegion ? { [REGION_LABEL]: offer.region } : undefined;
}

/**
 * Node affinity for what a node selector cannot say: the GPU type may have several product labels (SXM and PCIe),
 * and a secure pod must avoid every community value, including on nodes without the tier label.
 */
function nodeAffinity(offer: Offer, settings: SpecSettings): V1Affinity {
  const products = Object.entries(settings.gpuProducts)
    .filter(([, gpuType]) => gpuType === offer.gpuType)
    .map(([product]) => product);
  const expressions: V1NodeSelectorRequirement[] = [{ key: GPU_PRODUCT_LABEL, operator: "In", values: products }];
  if (settings.tierLabel) {
    expressions.push({ key: settings.tierLabel, operator: offer.tier === "community" ? "In" : "NotIn", values: settings.communityTierValues });
  }
  return { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: expressions }] } } };
}

/**
 * Capacity on a Kubernetes cluster: offers from its GPU nodes, a Pod per run (the runtime and the sidecar agent)
 * with a Service for its ports and a Secret for the agent's token, status from a pod watch. The platform reaches a
 * run through the Service's cluster DNS name, so the control plane runs inside the cluster (or resolves its DNS).
 *
 * Imported only by the provider registry: the client library needs Bun (it fails to load under Node 20), and the
 * Node-run CLI launcher must never reach it.
 */
import type { CoreV1Api, KubeConfig, V1Pod } from "@kubernetes/client-node";
import type { Offer } from "../../scheduler/offers";
import { type OfferQuery, type PodHandle, type PodLaunch, type PodRef, type PodStatus, type Provider, ProviderUnavailableError, ProvisionError } from "../seam";
import { call, coreApi, isAlreadyExists, isNotFound, KubernetesApiError, kubeConfig } from "./api";
import { AGENT_CONTAINER, GPU_PRODUCT_LABEL, LABEL_POD_ID, LABEL_RUN_ID, MANAGED_SELECTOR, objectName, RUNTIME_CONTAINER } from "./names";
import { gpuNodes, offersFrom } from "./offers";
import { defaultTiming, type KubernetesOptions, type KubernetesTiming } from "./options";
import { ownedBy, podTolerations, runPod, runSecret, runService } from "./pod-spec";
import { podAddress, podStatus, toDate } from "./pod-status";
import { PodWatch } from "./pod-watch";

export class KubernetesProvider implements Provider {
  readonly id: string;
  private readonly config: KubeConfig;
  private readonly api: CoreV1Api;
  private readonly timing: KubernetesTiming;
  private readonly watch: PodWatch;

  constructor(
    private readonly options: KubernetesOptions,
    id = "kubernetes",
  ) {
    this.id = id;
    this.timing = { ...defaultTiming, ...options.timing };
    this.config = kubeConfig(options.auth);
    this.api = coreApi(this.config);
    this.watch = new PodWatch({
      config: this.config,
      namespace: options.namespace,
      labelSelector: MANAGED_SELECTOR,
      list: () => this.listManaged(),
      backoffMs: this.timing.watchBackoffMs,
      maxBackoffMs: this.timing.maxWatchBackoffMs,
      watchTimeoutSeconds: this.timing.watchTimeoutSeconds,
      sleep: this.timing.sleep,
    });
  }

  async offers(query: OfferQuery): Promise<Offer[]> {
    const started = performance.now();
    const [nodes, pods] = await this.unavailableOnFailure(() =>
      Promise.all([
        // Only nodes GPU feature discovery has labelled: a large cluster's CPU nodes are not read.
        this.call("list nodes", () => this.api.listNode({ labelSelector: GPU_PRODUCT_LABEL })),
        // Every namespace's pods hold GPUs; finished ones hold none.
        this.call("list pods", () => this.api.listPodForAllNamespaces({ fieldSelector: "status.phase!=Succeeded,status.phase!=Failed" })),
      ]),
    );
    const latencyMs = Math.round(performance.now() - started);
    return offersFrom(gpuNodes(nodes.items, pods.items, this.options, podTolerations(this.options)), query, this.options, this.id, latencyMs);
  }

  /**
   * Makes the run's Pod, then its Secret and Service owned by it (an owner needs its uid, so the pod comes first;
   * its agent waits in CreateContainerConfigError for the moment the Secret is missing). Idempotent per run: a
   * provision retried after a lost answer adopts the pod it made.
   */
  async provision(launch: PodLaunch, offer: Offer): Promise<PodHandle> {
    const name = objectName(launch.podId);
    const namespace = this.options.namespace;
    let pod: V1Pod;
    try {
      pod = await this.call("create pod", () => this.api.createNamespacedPod({ namespace, body: runPod(name, launch, offer, this.options) }));
    } catch (error) {
      if (!isAlreadyExists(error)) throw provisionError(error);
      pod = await this.call("read pod", () => this.api.readNamespacedPod({ name, namespace })).catch((e) => Promise.reject(provisionError(e)));
      if (pod.metadata?.labels?.[LABEL_RUN_ID] !== launch.runId) throw new ProvisionError(`pod ${name} already exists for another run`, false);
    }
    try {
      const owner = ownedBy(pod);
      await this.createIfMissing("create secret", () => this.api.createNamespacedSecret({ namespace, body: runSecret(name, launch, owner) }));
      // A ClusterIP Service needs a port: a pod that exposes none gets none.
      if (launch.ports.length > 0) {
        await this.createIfMissing("create service", () => this.api.createNamespacedService({ namespace, body: runService(name, launch, owner) }));
      }
    } catch (error) {
      await this.stop({ podId: launch.podId, externalId: name }).catch(() => {});
      throw provisionError(error);
    }
    this.watch.start();
    return {
      podId: launch.podId,
      providerId: this.id,
      externalId: name,
      region: offer.region,
      address: podAddress({ ...pod, metadata: { ...pod.metadata, namespace } }),
    };
  }

  /** Deletes the pod; the Secret and Service go with it (owner references), and are deleted here too so nothing waits on the collector. */
  async stop(ref: PodRef): Promise<void> {
    const name = ref.externalId;
    const namespace = this.options.namespace;
    await this.unavailableOnFailure(async () => {
      await this.deleteIfPresent("delete pod", () => this.api.deleteNamespacedPod({ name, namespace }));
      await this.deleteIfPresent("delete service", () => this.api.deleteNamespacedService({ name, namespace }));
      await this.deleteIfPresent("delete secret", () => this.api.deleteNamespacedSecret({ name, namespace }));
    });
  }

  /** From the watch's cache while it is live; a GET when the cache does not have the pod (just made, or the watch is down). */
  async status(ref: PodRef): Promise<PodStatus> {
    this.watch.start();
    let pod = this.watch.get(ref.externalId);
    if (!pod) {
      try {
        pod = await this.call("read pod", () => this.api.readNamespacedPod({ name: ref.externalId, namespace: this.options.namespace }));
      } catch (error) {
        if (isNotFound(error)) return { state: "gone" };
        throw this.unavailable(error);
      }
    }
    if (pod.metadata?.labels?.[LABEL_POD_ID] !== ref.podId) return { state: "gone" };
    return podStatus({ ...pod, metadata: { ...pod.metadata, namespace: this.options.namespace } }, this.timing.now);
  }

  /** Every pod the platform made in the namespace, by its managed-by label: what the reconciler checks for orphans. */
  async pods(): Promise<{ podId: string; externalId: string; createdAt: Date }[]> {
    this.watch.start();
    const pods = this.watch.all() ?? (await this.unavailableOnFailure(() => this.listManaged())).pods;
    return pods.flatMap((pod) => {
      const podId = pod.metadata?.labels?.[LABEL_POD_ID];
      const createdAt = toDate(pod.metadata?.creationTimestamp);
      return podId && createdAt ? [{ podId, externalId: pod.metadata?.name ?? "", createdAt }] : [];
    });
  }

  async logs(ref: PodRef, stream: "runtime" | "agent", tailLines: number): Promise<string> {
    const container = stream === "runtime" ? RUNTIME_CONTAINER : AGENT_CONTAINER;
    try {
      return await this.call("read log", () =>
        this.api.readNamespacedPodLog({ name: ref.externalId, namespace: this.options.namespace, container, tailLines }),
      );
    } catch (error) {
      // A pod that is gone, or whose container has not started, has no log yet.
      if (isNotFound(error) || (error instanceof KubernetesApiError && error.status === 400)) return "";
      throw this.unavailable(error);
    }
  }

  /** Ends the pod watch (at shutdown, and in tests). */
  close(): Promise<void> {
    return this.watch.close();
  }

  private async listManaged(): Promise<{ pods: V1Pod[]; resourceVersion: string }> {
    const list = await this.call("list platform pods", () =>
      this.api.listNamespacedPod({ namespace: this.options.namespace, labelSelector: MANAGED_SELECTOR }),
    );
    return { pods: list.items, resourceVersion: list.metadata?.resourceVersion ?? "" };
  }

  private call<T>(what: string, request: () => Promise<T>): Promise<T> {
    return call(what, this.timing.requestTimeoutMs, request);
  }

  private async createIfMissing(what: string, request: () => Promise<unknown>): Promise<void> {
    await this.call(what, request).catch((error) => {
      if (!isAlreadyExists(error)) throw error;
    });
  }

  private async deleteIfPresent(what: string, request: () => Promise<unknown>): Promise<void> {
    await this.call(what, request).catch((error) => {
      if (!isNotFound(error)) throw error;
    });
  }

  private async unavailableOnFailure<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  private unavailable(error: unknown): ProviderUnavailableError {
    return new ProviderUnavailableError(this.id, error instanceof Error ? error.message : String(error));
  }
}

/**
 * Whether another offer may succeed: not after the API refused the launch itself (400, 403, 422), yes when the
 * cluster was away or busy, or when a quota (capacity bought for the namespace) ran out.
 */
function provisionError(error: unknown): ProvisionError {
  if (error instanceof ProvisionError) return error;
  if (!(error instanceof KubernetesApiError)) return new ProvisionError(String(error), true);
  // 401: the provider's credentials, not the launch, are wrong; another provider's offer may work.
  const retryable = error.transient || error.quotaExceeded || error.status === 401;
  return new ProvisionError(error.message, retryable);
}

export { kubernetesOptionsFromEnv } from "./options";

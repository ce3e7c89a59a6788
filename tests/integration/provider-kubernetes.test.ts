/**
 * The Kubernetes adapter against a local server speaking the core/v1 API subset it uses, driven by the real
 * `@kubernetes/client-node` through a kubeconfig written here. The test plays scheduler and kubelet: it binds pods,
 * sets their phases, container states and conditions, and the server streams the watch events the adapter reads.
 */
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubernetesProvider } from "../../src/providers/kubernetes/kubernetes-provider";
import { objectName } from "../../src/providers/kubernetes/names";
import { defaultGpuProducts, type KubernetesOptions, kubernetesOptionsFromEnv } from "../../src/providers/kubernetes/options";
import { agentEnv, type OfferQuery, type PodLaunch, ProviderUnavailableError, ProvisionError } from "../../src/providers/seam";
import type { Offer } from "../../src/scheduler/offers";
import { FakeKubernetes } from "../support/fake-clouds/kubernetes";

const NS = "qdz-test";
const SPOT_LABEL = "cloud.google.com/gke-spot";
const api = new FakeKubernetes().start();
const dir = mkdtempSync(join(tmpdir(), "qdz-k8s-"));
const kubeconfigPath = join(dir, "kubeconfig");
writeFileSync(kubeconfigPath, api.kubeconfig(NS));
afterAll(() => {
  api.stop();
  rmSync(dir, { recursive: true, force: true });
});

const gpus: KubernetesOptions["gpus"] = [
  { id: "L4", vramGib: 24, cost: { secure: 40, community: 20 } },
  { id: "A100-80G", vramGib: 80, cost: { secure: 150, community: 90 } },
];
const RECLAIMED_AT = new Date("2030-01-02T03:04:05Z");

const open: KubernetesProvider[] = [];
function provider(overrides: Partial<KubernetesOptions> = {}): KubernetesProvider {
  const made = new KubernetesProvider({
    auth: { kubeconfig: kubeconfigPath },
    namespace: NS,
    tierLabel: SPOT_LABEL,
    communityTierValues: ["true", "spot"],
    agentImage: "ghcr.io/qdz/agent@sha256:feed",
    gpuProducts: defaultGpuProducts,
    defaultRegion: "on-prem",
    gpus,
    // Backoffs are a few ms: a dropped watch is re-listed at once, and nothing here waits longer than a poll.
    timing: { requestTimeoutMs: 3000, watchBackoffMs: 5, maxWatchBackoffMs: 20, now: () => RECLAIMED_AT },
    ...overrides,
  });
  open.push(made);
  return made;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

const anyQuery: OfferQuery = { gpuTypes: [], gpuCount: 1, regions: [], tier: null };

function launch(overrides: Partial<PodLaunch> = {}): PodLaunch {
  const base = {
    podId: "pod_K8sTest01",
    instanceId: "inst_1",
    runId: "run_1",
    ports: [
      { name: "runtime", port: 8000, protocol: "http" as const },
      { name: "metrics_exporter", port: 9100, protocol: "tcp" as const },
    ],
    healthPath: "/health",
    agent: { controlUrl: "http://control.qdz.svc.cluster.local:3000", token: "agent-secret-token" },
    ...overrides,
  };
  return {
    image: "ghcr.io/qdz/vllm@sha256:abc",
    command: ["--model", "/models/llama 3", "--port", "8000"],
    // As the launch arrives: the runtime's own variables and the agent's settings.
    env: { HF_HOME: "/models", ...agentEnv(base) },
    gpuType: "L4",
    gpuCount: 2,
    sshAuthorizedKeys: [],
    ...base,
  };
}

const communityL4: Offer = {
  id: "kubernetes/L4/eu-west1/community",
  providerId: "kubernetes",
  gpuType: "L4",
  gpuCount: 8,
  vramGib: 22,
  region: "eu-west1",
  tier: "community",
  providerCostCentsPerGpuHour: 20,
  availableGpus: 5,
  latencyMs: 1,
};

/** Polls what the adapter reports until it matches: a watch event arrives on its own time. */
async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`still ${JSON.stringify(value)} after 3 s`);
    await Bun.sleep(10);
  }
}

beforeEach(() => {
  api.requests.length = 0;
  api.nodes.length = 0;
  api.pods.clear();
  api.services.clear();
  api.secrets.clear();
  api.logs.clear();
  api.gpuQuota = null;
});

function cluster() {
  api.addNode({ name: "gpu-a", product: "NVIDIA-L4", gpus: 4, memoryMib: 23034, region: "eu-west1" });
  api.addNode({ name: "gpu-b", product: "NVIDIA-L4", gpus: 2, region: "eu-west1" });
  api.addNode({
    name: "gpu-c",
    product: "NVIDIA-L4",
    gpus: 8,
    region: "eu-west1",
    labels: { [SPOT_LABEL]: "true" },
    taints: [{ key: SPOT_LABEL, value: "true", effect: "NoSchedule" }],
  });
  api.addNode({ name: "gpu-d", product: "NVIDIA-A100-SXM4-80GB", gpus: 8, memoryMib: 81920 });
  api.addNode({
    name: "gpu-h",
    product: "NVIDIA-L4",
    gpus: 1,
    region: "eu-west1",
    taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" }],
  });
  // Not offered: not ready, cordoned, tainted for someone else, a product the catalog does not know, no GPU.
  api.addNode({ name: "gpu-e", product: "NVIDIA-L4", gpus: 8, region: "eu-west1", ready: false });
  api.addNode({ name: "gpu-f", product: "NVIDIA-L4", gpus: 8, region: "eu-west1", unschedulable: true });
  api.addNode({ name: "gpu-g", product: "NVIDIA-L4", gpus: 8, region: "eu-west1", taints: [{ key: "dedicated", value: "ml-team", effect: "NoSchedule" }] });
  api.addNode({ name: "gpu-t4", product: "Tesla-T4", gpus: 8, region: "eu-west1" });
  api.addNode({ name: "cpu-1", region: "eu-west1" });
  // Other workloads' GPUs: pending-but-bound counts, finished does not.
  api.addForeignPod("ml", "train-1", "gpu-a", 1, "Pending");
  api.addForeignPod("ml", "train-2", "gpu-b", 2);
  api.addForeignPod("ml", "train-3", "gpu-c", 3);
  api.addForeignPod("ml", "done-1", "gpu-c", 4, "Succeeded");
}

describe("offers", () => {
  test("one offer per GPU type, region and tier, from allocatable GPUs minus what pods request", async () => {
    cluster();
    const offers = await provider().offers(anyQuery);
    const byId = Object.fromEntries(offers.map(({ latencyMs, ...o }) => [o.id, o]));
    expect(Object.keys(byId).sort()).toEqual(["kubernetes/A100-80G/on-prem/secure", "kubernetes/L4/eu-west1/community", "kubernetes/L4/eu-west1/secure"]);
    // Three secure L4 nodes (4 with 1 held, 2 all held, 1 behind the GPU taint): a pod gets at most 4, 3 can start now.
    expect(byId["kubernetes/L4/eu-west1/secure"]).toEqual({
      id: "kubernetes/L4/eu-west1/secure",
      providerId: "kubernetes",
      gpuType: "L4",
      gpuCount: 4,
      vramGib: 22,
      region: "eu-west1",
      tier: "secure",
      providerCostCentsPerGpuHour: 40,
      availableGpus: 3,
    });
    expect(byId["kubernetes/L4/eu-west1/community"]).toMatchObject({ gpuCount: 8, availableGpus: 5, providerCostCentsPerGpuHour: 20, vramGib: 24 });
    expect(byId["kubernetes/A100-80G/on-prem/secure"]).toMatchObject({ gpuCount: 8, availableGpus: 8, vramGib: 80, providerCostCentsPerGpuHour: 150 });
    expect(offers.every((o) => Number.isInteger(o.latencyMs) && o.latencyMs >= 0)).toBe(true);
    // Pods are counted with one list across namespaces, finished ones left out by the API server.
    expect(api.requests.find((r) => r.path === "/api/v1/pods")?.query.fieldSelector).toBe("status.phase!=Succeeded,status.phase!=Failed");
    expect(api.requests.find((r) => r.path === "/api/v1/nodes")?.query.labelSelector).toBe("nvidia.com/gpu.product");
  });

  test("the query narrows by GPU type, region and tier", async () => {
    cluster();
    const p = provider();
    expect((await p.offers({ ...anyQuery, gpuTypes: ["A100-80G"] })).map((o) => o.id)).toEqual(["kubernetes/A100-80G/on-prem/secure"]);
    expect((await p.offers({ ...anyQuery, tier: "community" })).map((o) => o.id)).toEqual(["kubernetes/L4/eu-west1/community"]);
    expect((await p.offers({ ...anyQuery, regions: ["us-east1"] })).map((o) => o.id)).toEqual([]);
  });

  test("a pod the platform placed takes its GPUs from its node's offer", async () => {
    cluster();
    const p = provider();
    const handle = await p.provision(launch(), communityL4);
    api.updatePod(NS, handle.externalId, { nodeName: "gpu-c" });
    const community = (await p.offers({ ...anyQuery, tier: "community" }))[0]!;
    expect(community.availableGpus).toBe(3);
  });

  test("a cluster that refuses the token, or cannot be reached, is unavailable", async () => {
    writeFileSync(join(dir, "bad-token"), api.kubeconfig(NS).replace(api.token, "wrong"));
    await expect(provider({ auth: { kubeconfig: join(dir, "bad-token") } }).offers(anyQuery)).rejects.toBeInstanceOf(ProviderUnavailableError);
    writeFileSync(join(dir, "nowhere"), api.kubeconfig(NS).replace(api.url, "http://127.0.0.1:9"));
    await expect(provider({ auth: { kubeconfig: join(dir, "nowhere") } }).offers(anyQuery)).rejects.toBeInstanceOf(ProviderUnavailableError);
  });
});

describe("provision", () => {
  test("a pod with the runtime and the sidecar agent, a Service for its ports and a Secret for the token", async () => {
    const handle = await provider().provision(launch({ sshAuthorizedKeys: ["ssh-ed25519 AAAA one@host"] }), communityL4);
    const name = objectName("pod_K8sTest01");
    expect(name).toMatch(/^qdz-pod-k8stest01-[0-9a-f]{8}$/);
    expect(handle).toEqual({
      podId: "pod_K8sTest01",
      providerId: "kubernetes",
      externalId: name,
      region: "eu-west1",
      address: {
        runtimeUrl: `http://${name}.${NS}.svc.cluster.local:8000`,
        ports: [
          { name: "runtime", port: 8000, url: `http://${name}.${NS}.svc.cluster.local:8000` },
          { name: "metrics_exporter", port: 9100, url: `http://${name}.${NS}.svc.cluster.local:9100` },
        ],
      },
    });

    const pod = api.pod(NS, name)!;
    expect(pod.metadata.labels).toEqual({
      "app.kubernetes.io/managed-by": "qdivzero",
      "qdz/pod-id": "pod_K8sTest01",
      "qdz/instance-id": "inst_1",
      "qdz/run-id": "run_1",
    });
    expect(pod.spec.restartPolicy).toBe("Never");
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(pod.spec.nodeSelector).toEqual({ "topology.kubernetes.io/region": "eu-west1" });
    expect(pod.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
      {
        matchExpressions: [
          { key: "nvidia.com/gpu.product", operator: "In", values: ["NVIDIA-L4"] },
          { key: SPOT_LABEL, operator: "In", values: ["true", "spot"] },
        ],
      },
    ]);
    expect(pod.spec.tolerations).toEqual([
      { key: "nvidia.com/gpu", operator: "Exists" },
      { key: SPOT_LABEL, operator: "Exists" },
    ]);

    const [runtime, agent] = pod.spec.containers;
    expect(runtime).toMatchObject({
      name: "runtime",
      image: "ghcr.io/qdz/vllm@sha256:abc",
      args: ["--model", "/models/llama 3", "--port", "8000"],
      // The runtime's own variables and the account's SSH keys; the agent's settings are the sidecar's.
      env: [
        { name: "HF_HOME", value: "/models" },
        { name: "SSH_PUBLIC_KEY", value: "ssh-ed25519 AAAA one@host" },
      ],
      ports: [
        { containerPort: 8000, protocol: "TCP" },
        { containerPort: 9100, protocol: "TCP" },
      ],
      resources: { limits: { "nvidia.com/gpu": "2" } },
      readinessProbe: { httpGet: { path: "/health", port: 8000 } },
    });
    expect(runtime.command).toBeUndefined();
    expect(agent.name).toBe("agent");
    expect(agent.image).toBe("ghcr.io/qdz/agent@sha256:feed");
    expect(agent.resources).toBeUndefined();
    expect(agent.env).toEqual([
      { name: "QDZ_POD_ID", value: "pod_K8sTest01" },
      { name: "QDZ_INSTANCE_ID", value: "inst_1" },
      { name: "QDZ_RUN_ID", value: "run_1" },
      { name: "QDZ_CONTROL_URL", value: "http://control.qdz.svc.cluster.local:3000" },
      { name: "QDZ_AGENT_TOKEN", valueFrom: { secretKeyRef: { name, key: "token" } } },
      { name: "QDZ_HEALTH_URL", value: "http://127.0.0.1:8000/health" },
    ]);
    // The token is nowhere in the pod's spec.
    expect(JSON.stringify(pod)).not.toContain("agent-secret-token");

    const owner = [{ apiVersion: "v1", kind: "Pod", name, uid: pod.metadata.uid, blockOwnerDeletion: false }];
    const secret = api.secrets.get(`${NS}/${name}`)!;
    expect(Buffer.from(secret.data.token, "base64").toString()).toBe("agent-secret-token");
    expect(secret.metadata.ownerReferences).toEqual(owner);
    const service = api.services.get(`${NS}/${name}`)!;
    expect(service.metadata.ownerReferences).toEqual(owner);
    expect(service.spec).toMatchObject({
      type: "ClusterIP",
      selector: { "qdz/pod-id": "pod_K8sTest01" },
      ports: [
        { name: "runtime-0", port: 8000, targetPort: 8000, protocol: "TCP" },
        { name: "metrics-ex-1", port: 9100, targetPort: 9100, protocol: "TCP" },
      ],
    });
  });

  test("a secure offer without a region label: no region selector, every community value avoided; no command keeps the entrypoint", async () => {
    const secureA100: Offer = { ...communityL4, id: "kubernetes/A100-80G/on-prem/secure", gpuType: "A100-80G", region: "on-prem", tier: "secure" };
    const handle = await provider().provision(launch({ podId: "pod_a100", gpuType: "A100-80G", command: null, healthPath: null, ports: [] }), secureA100);
    const pod = api.pod(NS, handle.externalId)!;
    expect(pod.spec.nodeSelector).toBeUndefined();
    expect(pod.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions).toEqual([
      { key: "nvidia.com/gpu.product", operator: "In", values: ["NVIDIA-A100-SXM4-80GB", "NVIDIA-A100-80GB-PCIe"] },
      { key: SPOT_LABEL, operator: "NotIn", values: ["true", "spot"] },
    ]);
    expect(pod.spec.containers[0].args).toBeUndefined();
    expect(pod.spec.containers[0].readinessProbe).toBeUndefined();
    expect(handle.address).toEqual({ runtimeUrl: null, ports: [] });
    expect(api.services.size).toBe(0);
  });

  test("names stay apart for ids that differ only in case", () => {
    expect(objectName("pod_AbC")).not.toBe(objectName("pod_aBc"));
    expect(objectName(`pod_${"x".repeat(80)}`).length).toBeLessThanOrEqual(63);
  });

  test("a provision retried after a lost answer adopts its pod; another run's pod of that name is refused", async () => {
    const p = provider();
    const first = await p.provision(launch(), communityL4);
    expect(await p.provision(launch(), communityL4)).toEqual(first);
    const error = await p.provision(launch({ runId: "run_2" }), communityL4).catch((e) => e);
    expect(error).toBeInstanceOf(ProvisionError);
    expect(error.retryable).toBe(false);
  });

  test("errors say whether another offer may succeed", async () => {
    const p = provider();
    const attempt = (podId: string) => p.provision(launch({ podId }), communityL4).catch((e: ProvisionError) => e);

    api.failNext("POST", "/pods", 422, "Invalid", 'Pod "x" is invalid: spec.containers[0].image: Required value');
    expect(await attempt("pod_e1")).toMatchObject({ retryable: false, message: expect.stringContaining("422") });
    api.failNext("POST", "/pods", 403, "Forbidden", 'pods is forbidden: User "system:serviceaccount:qdz:platform" cannot create resource "pods"');
    expect(await attempt("pod_e2")).toMatchObject({ retryable: false });
    api.gpuQuota = 1;
    const quota = await attempt("pod_e3");
    expect(quota).toMatchObject({ retryable: true, message: expect.stringContaining("exceeded quota") });
    api.gpuQuota = null;
    api.failNext("POST", "/pods", 500, "InternalError", "etcdserver: request timed out");
    expect(await attempt("pod_e4")).toMatchObject({ retryable: true });
    writeFileSync(join(dir, "nowhere"), api.kubeconfig(NS).replace(api.url, "http://127.0.0.1:9"));
    const away = await provider({ auth: { kubeconfig: join(dir, "nowhere") } })
      .provision(launch(), communityL4)
      .catch((e) => e);
    expect(away).toBeInstanceOf(ProvisionError);
    expect(away.retryable).toBe(true);
    expect(api.pods.size).toBe(0);
  });

  test("a pod whose Secret could not be made is removed again", async () => {
    api.failNext("POST", "/secrets", 500, "InternalError", "etcd is away");
    const error = await provider()
      .provision(launch(), communityL4)
      .catch((e) => e);
    expect(error).toMatchObject({ retryable: true });
    expect(api.pods.size).toBe(0);
    expect(api.services.size).toBe(0);
  });
});

describe("status", () => {
  const running = (ready: boolean) => ({
    phase: "Running",
    containerStatuses: [
      { name: "runtime", ready, restartCount: 0, started: true, image: "vllm", imageID: "", state: { running: { startedAt: "2030-01-01T00:00:00Z" } } },
      { name: "agent", ready: true, restartCount: 0, started: true, image: "agent", imageID: "", state: { running: { startedAt: "2030-01-01T00:00:00Z" } } },
    ],
  });

  test("from the pod's phase and container states, read from the watch once it is live", async () => {
    const p = provider();
    const handle = await p.provision(launch(), communityL4);
    const ref = { podId: handle.podId, externalId: handle.externalId };
    expect(await p.status(ref)).toEqual({ state: "starting", address: handle.address });
    await eventually(
      async () => api.openWatches,
      (n) => n === 1,
    );
    const watch = api.requests.find((r) => r.query.watch === "true")!;
    expect(watch).toMatchObject({ path: `/api/v1/namespaces/${NS}/pods`, query: { labelSelector: "app.kubernetes.io/managed-by=qdivzero" } });

    const gets = () => api.requests.filter((r) => r.method === "GET" && r.path.endsWith(`/pods/${handle.externalId}`)).length;
    const getsBefore = gets();
    api.updatePod(NS, handle.externalId, { nodeName: "gpu-c", status: running(false) });
    expect(
      await eventually(
        () => p.status(ref),
        (s) => s.state === "starting" && api.pod(NS, handle.externalId)!.status.phase === "Running",
      ),
    ).toMatchObject({
      state: "starting",
    });
    api.updatePod(NS, handle.externalId, { status: running(true) });
    expect(
      await eventually(
        () => p.status(ref),
        (s) => s.state === "running",
      ),
    ).toEqual({ state: "running", address: handle.address });
    // Every answer since the watch went live came from it, not from a GET.
    expect(gets()).toBe(getsBefore);

    const oom = running(false);
    oom.containerStatuses[0]!.state = {
      terminated: { reason: "OOMKilled", exitCode: 137, startedAt: "2030-01-01T00:00:00Z", finishedAt: "2030-01-01T01:00:00Z" },
    } as never;
    api.updatePod(NS, handle.externalId, { status: oom });
    expect(
      await eventually(
        () => p.status(ref),
        (s) => s.state === "exited",
      ),
    ).toEqual({ state: "exited", reason: "OOMKilled (exit code 137)" });
  });

  test("a failed pod is exited with its runtime's reason and code", async () => {
    const p = provider();
    const handle = await p.provision(launch(), communityL4);
    const failed = running(false);
    failed.phase = "Failed";
    failed.containerStatuses[0]!.state = { terminated: { reason: "Error", exitCode: 1, message: "CUDA out of memory" } } as never;
    api.updatePod(NS, handle.externalId, { status: failed });
    expect(
      await eventually(
        () => p.status(handle),
        (s) => s.state === "exited",
      ),
    ).toEqual({ state: "exited", reason: "Error (exit code 1): CUDA out of memory" });
  });

  test("an image that can never be pulled ends the run; one still pulling is starting", async () => {
    const p = provider();
    const handle = await p.provision(launch(), communityL4);
    const waiting = (reason: string) => ({
      phase: "Pending",
      containerStatuses: [
        { name: "runtime", ready: false, restartCount: 0, image: "x", imageID: "", state: { waiting: { reason, message: `${reason} for x` } } },
      ],
    });
    api.updatePod(NS, handle.externalId, { status: waiting("ImagePullBackOff") });
    expect((await p.status(handle)).state).toBe("starting");
    api.updatePod(NS, handle.externalId, { status: waiting("InvalidImageName") });
    expect(
      await eventually(
        () => p.status(handle),
        (s) => s.state === "exited",
      ),
    ).toEqual({ state: "exited", reason: "InvalidImageName: InvalidImageName for x" });
  });

  test("a pod the cluster took back is reclaimed at the time it decided", async () => {
    const p = provider();
    const preempted = await p.provision(launch({ podId: "pod_preempted" }), communityL4);
    api.updatePod(NS, preempted.externalId, {
      status: {
        ...running(true),
        conditions: [
          { type: "Ready", status: "True", lastTransitionTime: "2030-01-01T00:00:00Z" },
          {
            type: "DisruptionTarget",
            status: "True",
            reason: "PreemptionByScheduler",
            message: "Preempted in order to admit critical pod",
            lastTransitionTime: "2030-01-01T05:06:07Z",
          },
        ],
      },
    });
    expect(
      await eventually(
        () => p.status(preempted),
        (s) => s.state === "reclaimed",
      ),
    ).toEqual({
      state: "reclaimed",
      at: new Date("2030-01-01T05:06:07Z"),
      reason: "PreemptionByScheduler: Preempted in order to admit critical pod",
    });

    // The kubelet evicting under node pressure (no condition): the runtime's end, else the adapter's clock.
    const evicted = await p.provision(launch({ podId: "pod_evicted" }), communityL4);
    api.updatePod(NS, evicted.externalId, { status: { phase: "Failed", reason: "Evicted", message: "The node was low on resource: memory." } });
    expect(
      await eventually(
        () => p.status(evicted),
        (s) => s.state === "reclaimed",
      ),
    ).toEqual({
      state: "reclaimed",
      at: RECLAIMED_AT,
      reason: "Evicted: The node was low on resource: memory.",
    });
  });

  test("a deleted pod, or one never made, is gone", async () => {
    const p = provider();
    const handle = await p.provision(launch(), communityL4);
    expect((await p.status(handle)).state).toBe("starting");
    await eventually(
      async () => api.openWatches,
      (n) => n === 1,
    );
    await p.stop(handle);
    expect(
      await eventually(
        () => p.status(handle),
        (s) => s.state === "gone",
      ),
    ).toEqual({ state: "gone" });
    expect(await p.status({ podId: "pod_never", externalId: objectName("pod_never") })).toEqual({ state: "gone" });
  });

  test("a watch the server ends is resumed; one that fails is re-listed after a backoff; 410 re-lists at once", async () => {
    const p = provider();
    const handle = await p.provision(launch(), communityL4);
    await p.status(handle);
    await eventually(
      async () => api.openWatches,
      (n) => n === 1,
    );
    const lists = () => api.requests.filter((r) => r.path === `/api/v1/namespaces/${NS}/pods` && r.method === "GET" && r.query.watch !== "true").length;
    const watches = () => api.requests.filter((r) => r.query.watch === "true");
    const listsBefore = lists();

    // Ended cleanly: resumed from the last resourceVersion, and what changed meanwhile arrives; no list.
    api.dropWatches();
    api.updatePod(NS, handle.externalId, { status: running(true) });
    expect(
      await eventually(
        () => p.status(handle),
        (s) => s.state === "running",
      ),
    ).toMatchObject({ state: "running" });
    expect(watches().length).toBe(2);
    expect(watches()[1]!.query.resourceVersion).toMatch(/^\d+$/);
    expect(lists()).toBe(listsBefore);

    // Refused: a fresh list after the backoff, with what changed meanwhile.
    api.failNext("GET", "watch=true", 500, "InternalError", "etcd is away");
    api.dropWatches();
    api.updatePod(NS, handle.externalId, { status: running(false) });
    await eventually(
      async () => lists(),
      (n) => n > listsBefore,
    );
    expect(
      await eventually(
        () => p.status(handle),
        (s) => s.state === "starting",
      ),
    ).toMatchObject({ state: "starting" });
    await eventually(
      async () => api.openWatches,
      (n) => n === 1,
    );
    expect(lists()).toBe(listsBefore + 1);

    // Too old to resume (the server compacted its history): listed again at once.
    api.compactHistory();
    api.dropWatches();
    await eventually(
      async () => lists(),
      (n) => n === listsBefore + 2,
    );
    await eventually(
      async () => api.openWatches,
      (n) => n === 1,
    );
    api.updatePod(NS, handle.externalId, { status: { phase: "Failed", reason: "Evicted", message: "disk pressure" } });
    expect(
      await eventually(
        () => p.status(handle),
        (s) => s.state === "reclaimed",
      ),
    ).toMatchObject({ state: "reclaimed" });
  });
});

describe("pods, stop and logs", () => {
  test("every pod the platform made is found by its labels, the orphans included; others' are not", async () => {
    cluster();
    const p = provider();
    await p.provision(launch({ podId: "pod_one", runId: "run_one" }), communityL4);
    // A pod whose provision was never recorded (the worker died after the create): made by another provider instance.
    await provider().provision(launch({ podId: "pod_orphan", runId: "run_orphan" }), communityL4);
    const pods = await p.pods();
    expect(pods.map((x) => x.podId).sort()).toEqual(["pod_one", "pod_orphan"]);
    for (const pod of pods) {
      expect(pod.externalId).toBe(objectName(pod.podId));
      expect(pod.createdAt).toBeInstanceOf(Date);
      expect(Math.abs(pod.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
    }
    // Once the watch is live the same answer comes from it.
    await eventually(
      async () => api.openWatches,
      (n) => n === 1,
    );
    expect((await p.pods()).map((x) => x.podId).sort()).toEqual(["pod_one", "pod_orphan"]);
  });

  test("stop deletes the pod, its Service and its Secret, and is idempotent", async () => {
    const p = provider();
    const handle = await p.provision(launch(), communityL4);
    expect([api.pods.size, api.services.size, api.secrets.size]).toEqual([1, 1, 1]);
    await p.stop(handle);
    expect([api.pods.size, api.services.size, api.secrets.size]).toEqual([0, 0, 0]);
    await p.stop(handle);
    await p.stop({ podId: "pod_never", externalId: "qdz-never" });
  });

  test("logs of the runtime or the agent container, the last lines", async () => {
    const p = provider();
    const handle = await p.provision(launch(), communityL4);
    api.logs.set(`${NS}/${handle.externalId}/runtime`, "loading\nloaded\nserving on 8000\n");
    api.logs.set(`${NS}/${handle.externalId}/agent`, "heartbeat ok\n");
    expect(await p.logs(handle, "runtime", 2)).toBe("loaded\nserving on 8000\n");
    expect(await p.logs(handle, "agent", 50)).toBe("heartbeat ok\n");
    expect(api.requests.filter((r) => r.path.endsWith("/log")).map((r) => r.query)).toEqual([
      { container: "runtime", tailLines: "2" },
      { container: "agent", tailLines: "50" },
    ]);
    expect(await p.logs({ podId: "pod_never", externalId: "qdz-never" }, "runtime", 10)).toBe("");
  });
});

describe("settings", () => {
  test("off unless a namespace and a kubeconfig or the in-cluster account are set", () => {
    expect(kubernetesOptionsFromEnv({})).toBeNull();
    expect(kubernetesOptionsFromEnv({ KUBECONFIG: "/home/op/.kube/config" })).toBeNull();
    expect(kubernetesOptionsFromEnv({ KUBERNETES_NAMESPACE: "qdz", KUBERNETES_KUBECONFIG: "" })).toBeNull();
  });

  test("read from the environment, with the GPU products extended", () => {
    const options = kubernetesOptionsFromEnv({
      KUBERNETES_IN_CLUSTER: "1",
      KUBERNETES_NAMESPACE: "qdz",
      KUBERNETES_TIER_LABEL: "eks.amazonaws.com/capacityType",
      KUBERNETES_AGENT_IMAGE: "registry.example/qdz-agent:1",
      KUBERNETES_GPU_PRODUCTS: "NVIDIA-L4-SHARED=L4, Tesla-T4=T4",
      KUBERNETES_REGION: "dc-1",
    });
    expect(options).toMatchObject({
      auth: { inCluster: true },
      namespace: "qdz",
      tierLabel: "eks.amazonaws.com/capacityType",
      agentImage: "registry.example/qdz-agent:1",
      defaultRegion: "dc-1",
      gpuProducts: { "NVIDIA-L4": "L4", "NVIDIA-L4-SHARED": "L4", "Tesla-T4": "T4" },
    });
    expect(options!.communityTierValues).toContain("SPOT");
    expect(kubernetesOptionsFromEnv({ KUBECONFIG: "/k", KUBERNETES_NAMESPACE: "qdz", KUBERNETES_AGENT_IMAGE: "a" })).toMatchObject({
      auth: { kubeconfig: "/k" },
      tierLabel: null,
    });
  });

  test("a configured cluster without an agent image, or with a malformed product map, fails with a readable message", () => {
    expect(() => kubernetesOptionsFromEnv({ KUBERNETES_IN_CLUSTER: "1", KUBERNETES_NAMESPACE: "qdz" })).toThrow(/KUBERNETES_AGENT_IMAGE/);
    expect(() => kubernetesOptionsFromEnv({ KUBERNETES_GPU_PRODUCTS: "NVIDIA-L4" })).toThrow(/PRODUCT=GPU/);
  });
});

describe("the sidecar agent", () => {
  test("reads its settings from the pod's QDZ_* environment and reports the runtime's health", async () => {
    const heartbeats: { authorization: string | null; body: { runId: string; workload: { state: string } } }[] = [];
    const control = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: async (request) => {
        if (new URL(request.url).pathname === "/agent/heartbeat")
          heartbeats.push({ authorization: request.headers.get("authorization"), body: await request.json() });
        return new Response(null, { status: 204 });
      },
    });
    const runtime = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("ok") });
    const env = agentEnv({
      podId: "pod_sidecar",
      instanceId: "inst_1",
      runId: "run_sidecar",
      agent: { controlUrl: `http://127.0.0.1:${control.port}`, token: "sidecar-token" },
      healthPath: "/health",
      ports: [{ name: "runtime", port: runtime.port!, protocol: "http" }],
    });
    const agent = Bun.spawn([process.execPath, join(import.meta.dir, "../../pods/agent/main.ts")], {
      env: { PATH: process.env.PATH, TMPDIR: dir, ...env },
      stdout: "ignore",
      stderr: "pipe",
    });
    try {
      await eventually(
        async () => heartbeats.length,
        (n) => n > 0,
      );
      expect(heartbeats[0]).toEqual({
        authorization: "Bearer sidecar-token",
        body: expect.objectContaining({ runId: "run_sidecar", workload: { state: "ready" } }),
      });
    } finally {
      agent.kill();
      await agent.exited;
      control.stop(true);
      runtime.stop(true);
    }
  });
});

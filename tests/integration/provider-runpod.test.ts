/** The RunPod adapter against a local server speaking RunPod's REST API 2.0 as its reference documents it. */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { RunPodProvider, runpodOptionsFromEnv } from "../../src/providers/runpod/runpod-provider";
import { type OfferQuery, type PodLaunch, ProviderUnavailableError, ProvisionError } from "../../src/providers/seam";
import type { Offer } from "../../src/scheduler/offers";
import { FakeRunPod } from "../support/fake-clouds/runpod";

const cloud = new FakeRunPod().start();
afterAll(() => cloud.stop());

/** Waits are recorded, never slept: a 429's Retry-After costs the test nothing. */
const slept: number[] = [];
const provider = (apiKey = cloud.apiKey) =>
  new RunPodProvider({ apiKey, baseUrl: cloud.url, sleep: async (ms) => void slept.push(ms), http: { timeoutMs: 5_000, maxRetries: 3 } });

const anyQuery: OfferQuery = { gpuTypes: [], gpuCount: 1, regions: [], tier: null };

function launch(overrides: Partial<PodLaunch> = {}): PodLaunch {
  return {
    podId: "pod_runpod1",
    instanceId: "inst_1",
    runId: "run_1",
    image: "ghcr.io/qdz/vllm@sha256:abc",
    command: ["vllm", "serve", "/models/llama 3", "--port", "8000"],
    env: { HF_HOME: "/models" },
    ports: [{ name: "runtime", port: 8000, protocol: "http" }],
    healthPath: "/health",
    gpuType: "L4",
    gpuCount: 1,
    sshAuthorizedKeys: ["ssh-ed25519 AAAA user@host"],
    agent: { controlUrl: "https://control.example/agent", token: "agent-secret" },
    ...overrides,
  };
}

const offer = (fields: Partial<Offer> = {}): Offer => ({
  id: "runpod/L4/US-KS-2/community",
  providerId: "runpod",
  gpuType: "L4",
  gpuCount: 4,
  vramGib: 24,
  region: "US-KS-2",
  tier: "community",
  providerCostCentsPerGpuHour: 44,
  availableGpus: 2,
  latencyMs: 1,
  ...fields,
});

beforeEach(() => {
  cloud.requests.length = 0;
  cloud.pods.clear();
  cloud.noCapacity = false;
  cloud.startAfterGets = 1;
  cloud.runAfterGets = 2;
  slept.length = 0;
  cloud.gpus = [
    {
      id: "NVIDIA L4",
      name: "L4",
      pool: "ADA_24",
      manufacturer: "NVIDIA",
      memory: 24,
      secure: true,
      community: true,
      price: { secure: 0.44, community: 0.263 },
      maxCount: { secure: 8, community: 4 },
      stock: {
        SECURE: [
          { id: "US-KS-2", availability: "HIGH" },
          { id: "EU-RO-1", availability: "NONE" },
        ],
        COMMUNITY: [
          { id: "US-KS-2", availability: "LOW" },
          { id: "EU-RO-1", availability: "MEDIUM" },
        ],
      },
    },
    {
      id: "NVIDIA A100 80GB PCIe",
      name: "A100 PCIe",
      pool: "AMPERE_80",
      manufacturer: "NVIDIA",
      memory: 80,
      secure: true,
      community: false,
      price: { secure: 1.64, community: 0 },
      maxCount: { secure: 2, community: 0 },
      stock: { SECURE: [{ id: "US-KS-2", availability: "MEDIUM" }], COMMUNITY: [] },
    },
    {
      id: "AMD Instinct MI300X OAM",
      name: "MI300X",
      pool: null,
      manufacturer: "AMD",
      memory: 192,
      secure: true,
      community: false,
      price: { secure: 2.49, community: 0 },
      maxCount: { secure: 8, community: 0 },
      stock: { SECURE: [{ id: "US-KS-2", availability: "HIGH" }], COMMUNITY: [] },
    },
  ];
});

describe("offers", () => {
  test("the catalog's mapped GPU types become offers per data center and tier, priced per GPU-hour in cents rounded up", async () => {
    const offers = await provider().offers(anyQuery);
    const byId = new Map(offers.map((o) => [o.id, o]));
    expect([...byId.keys()].sort()).toEqual([
      "runpod/A100-80G/US-KS-2/secure",
      "runpod/L4/EU-RO-1/community",
      "runpod/L4/US-KS-2/community",
      "runpod/L4/US-KS-2/secure",
    ]);
    expect(byId.get("runpod/L4/US-KS-2/secure")).toMatchObject({
      providerId: "runpod",
      gpuType: "L4",
      gpuCount: 8,
      vramGib: 24,
      region: "US-KS-2",
      tier: "secure",
      providerCostCentsPerGpuHour: 44,
    });
    // 0.263 USD is 26.3 cents: a cost is never understated.
    expect(byId.get("runpod/L4/US-KS-2/community")!.providerCostCentsPerGpuHour).toBe(27);
    for (const o of offers) {
      expect(o.availableGpus).toBeGreaterThanOrEqual(1);
      expect(o.latencyMs).toBeGreaterThanOrEqual(0);
    }
    // Availability is asked per cloud, for the query's GPU count.
    const catalogCalls = cloud.requests.filter((r) => r.path === "/v2/catalog/gpus");
    expect(catalogCalls.map((r) => r.query)).toEqual([
      { include: "AVAILABILITY", cloud: "SECURE", count: "1" },
      { include: "AVAILABILITY", cloud: "COMMUNITY", count: "1" },
    ]);
  });

  test("the query's GPU types, count, regions and tier filter the offers", async () => {
    const rp = provider();
    expect((await rp.offers({ ...anyQuery, tier: "community" })).map((o) => o.id).sort()).toEqual([
      "runpod/L4/EU-RO-1/community",
      "runpod/L4/US-KS-2/community",
    ]);
    expect((await rp.offers({ ...anyQuery, regions: ["EU-RO-1"] })).map((o) => o.id)).toEqual(["runpod/L4/EU-RO-1/community"]);
    expect((await rp.offers({ ...anyQuery, gpuTypes: ["A100-80G"] })).map((o) => o.id)).toEqual(["runpod/A100-80G/US-KS-2/secure"]);
    // At most 2 A100s and 4 community L4s fit one pod.
    expect((await rp.offers({ ...anyQuery, gpuCount: 6 })).map((o) => o.id)).toEqual(["runpod/L4/US-KS-2/secure"]);
  });

  test("a catalog the API will not give makes the provider unavailable, not an empty answer", async () => {
    cloud.rateLimit(10, 1);
    await expect(provider().offers(anyQuery)).rejects.toBeInstanceOf(ProviderUnavailableError);
    cloud.rateLimit(0, 1);
    await expect(provider("wrong-key").offers(anyQuery)).rejects.toBeInstanceOf(ProviderUnavailableError);
  });

  test("a 429 waits for Retry-After, then the call goes through", async () => {
    cloud.rateLimit(2, 3);
    const offers = await provider().offers({ ...anyQuery, tier: "secure" });
    expect(offers.length).toBeGreaterThan(0);
    expect(slept).toEqual([3000, 3000]);
  });
});

describe("provision", () => {
  test("creates the pod the launch describes, named by the platform's pod id, and knows the proxy address at once", async () => {
    const handle = await provider().provision(launch(), offer());
    const create = cloud.requests.find((r) => r.method === "POST" && r.path === "/v2/pods")!;
    const body = create.body as any;
    expect(body).toMatchObject({
      name: "qdz-pod_runpod1",
      image: "ghcr.io/qdz/vllm@sha256:abc",
      args: "vllm serve '/models/llama 3' --port 8000",
      gpu: { id: "NVIDIA L4", count: 1 },
      cloud: "COMMUNITY",
      dataCenterIds: ["US-KS-2"],
      ports: ["8000/http", "22/tcp"],
    });
    expect(body.env).toMatchObject({
      HF_HOME: "/models",
      QDZ_POD_ID: "pod_runpod1",
      QDZ_INSTANCE_ID: "inst_1",
      QDZ_RUN_ID: "run_1",
      QDZ_CONTROL_URL: "https://control.example/agent",
      QDZ_AGENT_TOKEN: "agent-secret",
      QDZ_HEALTH_URL: "http://127.0.0.1:8000/health",
      SSH_PUBLIC_KEY: "ssh-ed25519 AAAA user@host",
    });
    expect(handle).toEqual({
      podId: "pod_runpod1",
      providerId: "runpod",
      externalId: expect.any(String),
      region: "US-KS-2",
      address: {
        runtimeUrl: `https://${handle.externalId}-8000.proxy.runpod.net`,
        ports: [{ name: "runtime", port: 8000, url: `https://${handle.externalId}-8000.proxy.runpod.net` }],
      },
    });
    expect(cloud.pods.has(handle.externalId)).toBe(true);
  });

  test("a secure offer creates a secure pod; a pod with no command runs the image's own", async () => {
    await provider().provision(launch({ command: null, sshAuthorizedKeys: [] }), offer({ tier: "secure" }));
    const body = cloud.requests.find((r) => r.method === "POST")!.body as any;
    expect(body.cloud).toBe("SECURE");
    expect(body.args).toBeUndefined();
    expect(body.ports).toEqual(["8000/http"]);
  });

  test("a 500 while creating is retryable: another offer may succeed", async () => {
    cloud.failNextCreate(500);
    const error = await provider()
      .provision(launch(), offer())
      .catch((e) => e);
    expect(error).toBeInstanceOf(ProvisionError);
    expect(error.retryable).toBe(true);
    expect(cloud.pods.size).toBe(0);
  });

  test("no capacity left is retryable", async () => {
    cloud.noCapacity = true;
    const error = await provider()
      .provision(launch(), offer())
      .catch((e) => e);
    expect(error).toBeInstanceOf(ProvisionError);
    expect(error.retryable).toBe(true);
  });

  test("a bad key is not retryable, nor is a GPU type RunPod is not mapped for", async () => {
    const badKey = await provider("wrong-key")
      .provision(launch(), offer())
      .catch((e) => e);
    expect(badKey).toBeInstanceOf(ProvisionError);
    expect(badKey.retryable).toBe(false);
    const unmapped = await provider()
      .provision(launch({ gpuType: "TPU" }), offer({ gpuType: "TPU" }))
      .catch((e) => e);
    expect(unmapped).toBeInstanceOf(ProvisionError);
    expect(unmapped.retryable).toBe(false);
  });

  test("a 429 on create waits and retries: RunPod refused it before acting", async () => {
    cloud.rateLimit(1, 2);
    const handle = await provider().provision(launch(), offer());
    expect(slept).toEqual([2000]);
    expect(cloud.pods.size).toBe(1);
    expect(cloud.pods.has(handle.externalId)).toBe(true);
  });
});

describe("status", () => {
  test("starting, then running with the address", async () => {
    const rp = provider();
    const handle = await rp.provision(launch(), offer());
    const ref = { podId: handle.podId, externalId: handle.externalId };
    cloud.startAfterGets = 1;
    cloud.runAfterGets = 3;
    expect((await rp.status(ref)).state).toBe("starting");
    expect((await rp.status(ref)).state).toBe("starting");
    expect(await rp.status(ref)).toEqual({ state: "running", address: handle.address });
  });

  test("a tcp runtime port's address arrives once the pod runs", async () => {
    const rp = provider();
    const ports: PodLaunch["ports"] = [{ name: "runtime", port: 8000, protocol: "tcp" }];
    const handle = await rp.provision(launch({ ports }), offer());
    expect(handle.address).toBeNull();
    const ref = { podId: handle.podId, externalId: handle.externalId };
    cloud.runAfterGets = 2;
    expect(await rp.status(ref)).toEqual({ state: "starting", address: null });
    expect(await rp.status(ref)).toEqual({
      state: "running",
      address: { runtimeUrl: "http://203.0.113.7:40000", ports: [{ name: "runtime", port: 8000, url: "tcp://203.0.113.7:40000" }] },
    });
  });

  test("an exited or failed pod has exited; a terminated or unknown one is gone (v2 makes no interruptible pods: no reclaim)", async () => {
    const rp = provider();
    const handle = await rp.provision(launch(), offer());
    const ref = { podId: handle.podId, externalId: handle.externalId };
    cloud.setStatus(handle.externalId, "EXITED");
    expect(await rp.status(ref)).toMatchObject({ state: "exited" });
    cloud.setStatus(handle.externalId, "ERROR");
    expect(await rp.status(ref)).toMatchObject({ state: "exited" });
    cloud.setStatus(handle.externalId, "TERMINATED");
    expect(await rp.status(ref)).toEqual({ state: "gone" });
    expect(await rp.status({ podId: "pod_x", externalId: "never-made" })).toEqual({ state: "gone" });
  });

  test("an API that cannot answer is not mistaken for a gone pod", async () => {
    cloud.rateLimit(10, 1);
    await expect(provider().status({ podId: "pod_x", externalId: "rp1" })).rejects.toBeInstanceOf(ProviderUnavailableError);
    cloud.rateLimit(0, 1);
  });
});

describe("stop and pods", () => {
  test("stop terminates the pod, and stopping it again is not an error", async () => {
    const rp = provider();
    const handle = await rp.provision(launch(), offer());
    const ref = { podId: handle.podId, externalId: handle.externalId };
    await rp.stop(ref);
    expect(cloud.pods.has(handle.externalId)).toBe(false);
    await rp.stop(ref);
    expect(await rp.status(ref)).toEqual({ state: "gone" });
    expect(cloud.requests.filter((r) => r.method === "DELETE").map((r) => r.path)).toEqual([`/v2/pods/${handle.externalId}`, `/v2/pods/${handle.externalId}`]);
  });

  test("pods() lists the platform's pods by name, orphans included, and nobody else's", async () => {
    const rp = provider();
    const made = await rp.provision(launch(), offer());
    const orphan = cloud.addPod({ name: "qdz-pod_orphan", createdAt: "2026-01-02T03:04:05Z", status: "RUNNING" });
    cloud.addPod({ name: "someone-elses-notebook" });
    const pods = await rp.pods();
    expect(pods.sort((a, b) => a.podId.localeCompare(b.podId))).toEqual([
      { podId: "pod_orphan", externalId: orphan.id, createdAt: new Date("2026-01-02T03:04:05Z") },
      { podId: "pod_runpod1", externalId: made.externalId, createdAt: expect.any(Date) },
    ]);
  });
});

describe("configuration", () => {
  test("no key: RunPod is off; a key turns it on, at the reference's server unless told otherwise", () => {
    expect(runpodOptionsFromEnv({})).toBeNull();
    expect(runpodOptionsFromEnv({ RUNPOD_API_KEY: "  " })).toBeNull();
    expect(runpodOptionsFromEnv({ RUNPOD_API_KEY: "k" })).toEqual({ apiKey: "k", baseUrl: undefined });
    expect(runpodOptionsFromEnv({ RUNPOD_API_KEY: "k", RUNPOD_API_URL: "http://127.0.0.1:9" })).toEqual({ apiKey: "k", baseUrl: "http://127.0.0.1:9" });
    expect(() => runpodOptionsFromEnv({ RUNPOD_API_KEY: "k", RUNPOD_API_URL: "not a url" })).toThrow("RUNPOD_API_URL");
  });
});

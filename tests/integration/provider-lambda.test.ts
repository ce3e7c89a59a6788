/** The Lambda Cloud adapter against a local server speaking the Lambda Cloud API as its OpenAPI document describes it. */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { LambdaProvider, lambdaOptionsFromEnv } from "../../src/providers/lambda/lambda-provider";
import { type OfferQuery, type PodLaunch, ProviderUnavailableError, ProvisionError } from "../../src/providers/seam";
import type { Offer } from "../../src/scheduler/offers";
import { FakeLambda } from "../support/fake-clouds/lambda";

/** One clock for the adapter and the server: sleeping advances it, so a 10 s pause costs the test nothing. */
let clock = Date.parse("2026-03-01T00:00:00Z");
const slept: number[] = [];
const sleep = async (ms: number) => {
  slept.push(ms);
  clock += ms;
};
const cloud = new FakeLambda(() => clock).start();
afterAll(() => cloud.stop());

const provider = (fields: { apiKey?: string; sshKeyName?: string } = {}) =>
  new LambdaProvider({
    apiKey: fields.apiKey ?? cloud.apiKey,
    baseUrl: cloud.url,
    sshKeyName: fields.sshKeyName,
    launchIntervalMs: 10_000,
    now: () => clock,
    sleep,
    http: { timeoutMs: 5_000, maxRetries: 3 },
  });

const anyQuery: OfferQuery = { gpuTypes: [], gpuCount: 1, regions: [], tier: null };

function launch(overrides: Partial<PodLaunch> = {}): PodLaunch {
  return {
    podId: "pod_lambda1",
    instanceId: "inst_1",
    runId: "run_1",
    image: "ghcr.io/qdz/vllm@sha256:abc",
    command: ["vllm", "serve", "/models/llama 3", "--port", "8000"],
    env: { HF_HOME: "/models" },
    ports: [
      { name: "runtime", port: 8000, protocol: "http" },
      { name: "metrics", port: 9100, protocol: "tcp" },
    ],
    healthPath: "/health",
    gpuType: "H100-80G",
    gpuCount: 1,
    sshAuthorizedKeys: ["ssh-ed25519 AAAA user@host"],
    agent: { controlUrl: "https://control.example/agent", token: "agent-secret" },
    ...overrides,
  };
}

const offer = (fields: Partial<Offer> = {}): Offer => ({
  id: "lambda/gpu_1x_h100_sxm5/us-east-1/secure",
  providerId: "lambda",
  gpuType: "H100-80G",
  gpuCount: 1,
  vramGib: 80,
  region: "us-east-1",
  tier: "secure",
  providerCostCentsPerGpuHour: 329,
  availableGpus: 1,
  latencyMs: 1,
  ...fields,
});

const type = (name: string, gpus: number, gpu: string, cents: number, regions: string[]) => ({
  instance_type: {
    name,
    description: `${gpus}x ${gpu}`,
    gpu_description: gpu,
    price_cents_per_hour: cents,
    specs: { vcpus: 26 * gpus, memory_gib: 225 * gpus, storage_gib: 2750 * gpus, gpus },
  },
  regions_with_capacity_available: regions.map((name) => ({ name, description: name })),
});

beforeEach(() => {
  clock += 60_000;
  cloud.requests.length = 0;
  cloud.instances.clear();
  cloud.tooSoonLaunches = 0;
  cloud.activeAfterGets = 2;
  cloud.ipAfterGets = 2;
  slept.length = 0;
  cloud.instanceTypes = {
    gpu_1x_h100_sxm5: type("gpu_1x_h100_sxm5", 1, "H100 (80 GB SXM5)", 329, ["us-east-1", "us-west-3"]),
    gpu_8x_h100_sxm5: type("gpu_8x_h100_sxm5", 8, "H100 (80 GB SXM5)", 2392, ["us-east-1"]),
    gpu_1x_a100_sxm4: type("gpu_1x_a100_sxm4", 1, "A100 (40 GB SXM4)", 129, []),
    gpu_8x_a100_80gb_sxm4: type("gpu_8x_a100_80gb_sxm4", 8, "A100 (80 GB SXM4)", 1432, ["us-midwest-1"]),
    gpu_1x_a10: type("gpu_1x_a10", 1, "A10 (24 GB PCIe)", 75, ["us-east-1"]),
  };
});

describe("offers", () => {
  test("instance types with capacity become secure offers per region, priced per GPU-hour in cents rounded up", async () => {
    const offers = await provider().offers(anyQuery);
    expect(offers.map((o) => o.id).sort()).toEqual(["lambda/gpu_1x_h100_sxm5/us-east-1/secure", "lambda/gpu_1x_h100_sxm5/us-west-3/secure"]);
    expect(offers.find((o) => o.region === "us-east-1")).toMatchObject({
      providerId: "lambda",
      gpuType: "H100-80G",
      gpuCount: 1,
      vramGib: 80,
      tier: "secure",
      providerCostCentsPerGpuHour: 329,
      availableGpus: 1,
    });
    expect(offers[0]!.latencyMs).toBeGreaterThanOrEqual(0);
  });

  test("a whole machine is offered only for its own GPU count; regions, types and the community tier filter", async () => {
    const lambda = provider();
    const eight = await lambda.offers({ ...anyQuery, gpuCount: 8 });
    expect(eight.map((o) => o.id).sort()).toEqual(["lambda/gpu_8x_a100_80gb_sxm4/us-midwest-1/secure", "lambda/gpu_8x_h100_sxm5/us-east-1/secure"]);
    // 1432 cents for 8 GPUs is 179 per GPU; 2392 / 8 = 299.
    expect(eight.find((o) => o.gpuType === "A100-80G")).toMatchObject({ gpuCount: 8, vramGib: 80, providerCostCentsPerGpuHour: 179, availableGpus: 8 });
    expect((await lambda.offers({ ...anyQuery, gpuCount: 8, gpuTypes: ["H100-80G"] })).map((o) => o.id)).toEqual(["lambda/gpu_8x_h100_sxm5/us-east-1/secure"]);
    expect((await lambda.offers({ ...anyQuery, regions: ["us-west-3"] })).map((o) => o.region)).toEqual(["us-west-3"]);
    expect(await lambda.offers({ ...anyQuery, tier: "community" })).toEqual([]);
  });

  test("a failing API makes the provider unavailable; a 429 waits for Retry-After and goes through", async () => {
    await expect(provider({ apiKey: "wrong" }).offers(anyQuery)).rejects.toBeInstanceOf(ProviderUnavailableError);
    cloud.rateLimit(2, 4);
    expect((await provider().offers(anyQuery)).length).toBe(2);
    expect(slept).toEqual([4000, 4000]);
    cloud.rateLimit(10, 1);
    await expect(provider().offers(anyQuery)).rejects.toBeInstanceOf(ProviderUnavailableError);
    cloud.rateLimit(0, 1);
  });
});

describe("provision", () => {
  test("launches the offer's type in its region, named by the pod id, running the launch through cloud-init", async () => {
    const handle = await provider({ sshKeyName: "platform-key" }).provision(launch(), offer());
    expect(handle).toEqual({ podId: "pod_lambda1", providerId: "lambda", externalId: expect.any(String), region: "us-east-1", address: null });
    const body = cloud.requests.find((r) => r.path === "/api/v1/instance-operations/launch")!.body as any;
    expect(body).toMatchObject({ region_name: "us-east-1", instance_type_name: "gpu_1x_h100_sxm5", ssh_key_names: ["platform-key"] });
    expect(body.name.startsWith("qdz-pod_lambda1.")).toBe(true);
    expect(body.name.length).toBeLessThanOrEqual(64);

    expect(body.user_data.startsWith("#cloud-config\n")).toBe(true);
    const config = JSON.parse(body.user_data.slice("#cloud-config\n".length));
    expect(config.ssh_authorized_keys).toEqual(["ssh-ed25519 AAAA user@host"]);
    const envFile: string = config.write_files[0].content;
    const env = Object.fromEntries(
      envFile
        .trim()
        .split("\n")
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    expect(env).toMatchObject({
      HF_HOME: "/models",
      QDZ_POD_ID: "pod_lambda1",
      QDZ_RUN_ID: "run_1",
      QDZ_CONTROL_URL: "https://control.example/agent",
      QDZ_AGENT_TOKEN: "agent-secret",
      QDZ_HEALTH_URL: "http://127.0.0.1:8000/health",
    });
    const docker: string[] = config.runcmd[0];
    expect(docker.slice(0, 2)).toEqual(["docker", "run"]);
    expect(docker).toContain("--gpus");
    expect(docker.join(" ")).toContain("--publish 8000:8000 --publish 9100:9100");
    // The argv is passed as argv, the token never on the command line.
    expect(docker.slice(-6)).toEqual(["ghcr.io/qdz/vllm@sha256:abc", "vllm", "serve", "/models/llama 3", "--port", "8000"]);
    expect(docker.join(" ")).not.toContain("agent-secret");
  });

  test("with no key name configured, the account's first SSH key is used", async () => {
    await provider().provision(launch(), offer());
    const body = cloud.requests.find((r) => r.path === "/api/v1/instance-operations/launch")!.body as any;
    expect(body.ssh_key_names).toEqual(["platform-key"]);
  });

  test("the address arrives with the IP, after boot", async () => {
    const lambda = provider();
    const handle = await lambda.provision(launch(), offer());
    const ref = { podId: handle.podId, externalId: handle.externalId };
    cloud.activeAfterGets = 3;
    cloud.ipAfterGets = 3;
    expect(await lambda.status(ref)).toEqual({ state: "starting", address: null });
    expect(await lambda.status(ref)).toEqual({ state: "starting", address: null });
    expect(await lambda.status(ref)).toEqual({
      state: "running",
      address: {
        runtimeUrl: "http://198.51.100.2:8000",
        ports: [
          { name: "runtime", port: 8000, url: "http://198.51.100.2:8000" },
          { name: "port-9100", port: 9100, url: "tcp://198.51.100.2:9100" },
        ],
      },
    });
  });

  test("no capacity and a 500 are retryable; a bad key or an unknown SSH key is not", async () => {
    const lambda = provider();
    const noCapacity = await lambda.provision(launch(), offer({ id: "lambda/gpu_1x_h100_sxm5/eu-north-9/secure", region: "eu-north-9" })).catch((e) => e);
    expect(noCapacity).toBeInstanceOf(ProvisionError);
    expect(noCapacity.retryable).toBe(true);

    cloud.failNextLaunch(500);
    const serverError = await lambda.provision(launch(), offer()).catch((e) => e);
    expect(serverError).toBeInstanceOf(ProvisionError);
    expect(serverError.retryable).toBe(true);

    const badKey = await provider({ apiKey: "wrong", sshKeyName: "platform-key" })
      .provision(launch(), offer())
      .catch((e) => e);
    expect(badKey).toBeInstanceOf(ProvisionError);
    expect(badKey.retryable).toBe(false);

    clock += 60_000; // a new provider paces its own launches only: the server's limit is met by waiting here
    const unknownKey = await provider({ sshKeyName: "nobody" })
      .provision(launch(), offer())
      .catch((e) => e);
    expect(unknownKey).toBeInstanceOf(ProvisionError);
    expect(unknownKey.retryable).toBe(false);
    expect(cloud.instances.size).toBe(0);
    expect(cloud.tooSoonLaunches).toBe(0);
  });

  test("launches are serialised at most one per interval, counted on the clock, and Lambda never refuses one for coming too soon", async () => {
    const lambda = provider();
    const started = clock;
    const handles = await Promise.all([1, 2, 3].map((n) => lambda.provision(launch({ podId: `pod_${n}` }), offer())));
    expect(new Set(handles.map((h) => h.externalId)).size).toBe(3);
    const launches = cloud.requests.filter((r) => r.path === "/api/v1/instance-operations/launch");
    expect(launches.length).toBe(3);
    for (let i = 1; i < launches.length; i++) expect(launches[i]!.at - launches[i - 1]!.at).toBeGreaterThanOrEqual(10_000);
    expect(cloud.tooSoonLaunches).toBe(0);
    expect(clock - started).toBeLessThan(30_000);
  });

  test("a launch for a machine with more GPUs than the pod asks is refused before it is sent", async () => {
    const error = await provider()
      .provision(launch({ gpuCount: 1 }), offer({ id: "lambda/gpu_8x_h100_sxm5/us-east-1/secure", gpuCount: 8 }))
      .catch((e) => e);
    expect(error).toBeInstanceOf(ProvisionError);
    expect(cloud.requests.some((r) => r.path === "/api/v1/instance-operations/launch")).toBe(false);
  });
});

describe("status, stop and pods", () => {
  test("preempted is a reclaim dated when seen; unhealthy has exited; terminated or unknown is gone", async () => {
    const lambda = provider();
    const handle = await lambda.provision(launch(), offer());
    const ref = { podId: handle.podId, externalId: handle.externalId };
    cloud.setStatus(handle.externalId, "preempted");
    expect(await lambda.status(ref)).toEqual({ state: "reclaimed", at: new Date(clock), reason: expect.stringContaining("preempted") });
    cloud.setStatus(handle.externalId, "unhealthy");
    expect(await lambda.status(ref)).toMatchObject({ state: "exited" });
    cloud.setStatus(handle.externalId, "terminated");
    expect(await lambda.status(ref)).toEqual({ state: "gone" });
    expect(await lambda.status({ podId: "pod_x", externalId: "nope" })).toEqual({ state: "gone" });
  });

  test("stop terminates the instance, and stopping it again is not an error", async () => {
    const lambda = provider();
    const handle = await lambda.provision(launch(), offer());
    const ref = { podId: handle.podId, externalId: handle.externalId };
    await lambda.stop(ref);
    await lambda.stop(ref);
    expect(await lambda.status(ref)).toEqual({ state: "gone" });
    const terminations = cloud.requests.filter((r) => r.path === "/api/v1/instance-operations/terminate");
    expect(terminations.map((r) => r.body)).toEqual([{ instance_ids: [handle.externalId] }, { instance_ids: [handle.externalId] }]);
  });

  test("pods() finds the platform's instances by name, with their launch time, and nobody else's", async () => {
    const lambda = provider();
    const launchedAt = clock;
    const made = await lambda.provision(launch(), offer());
    const orphanName = `qdz-pod_orphan.${Math.floor(Date.parse("2026-01-02T03:04:05Z") / 1000).toString(36)}.r8000`;
    const orphan = cloud.addInstance({ name: orphanName, status: "active" });
    cloud.addInstance({ name: "someone's notebook", status: "active" });
    cloud.addInstance({ name: "qdz-pod_old.k0.r8000", status: "terminated" });
    const pods = (await lambda.pods()).sort((a, b) => a.podId.localeCompare(b.podId));
    expect(pods).toEqual([
      { podId: "pod_lambda1", externalId: made.externalId, createdAt: new Date(Math.floor(launchedAt / 1000) * 1000) },
      { podId: "pod_orphan", externalId: orphan.id, createdAt: new Date("2026-01-02T03:04:05Z") },
    ]);
  });
});

describe("configuration", () => {
  test("no key: Lambda is off; a key turns it on", () => {
    expect(lambdaOptionsFromEnv({})).toBeNull();
    expect(lambdaOptionsFromEnv({ LAMBDA_API_KEY: "" })).toBeNull();
    expect(lambdaOptionsFromEnv({ LAMBDA_API_KEY: "k", LAMBDA_API_URL: "http://127.0.0.1:9" })).toEqual({ apiKey: "k", baseUrl: "http://127.0.0.1:9" });
    expect(() => lambdaOptionsFromEnv({ LAMBDA_API_KEY: "k", LAMBDA_API_URL: "nope" })).toThrow("LAMBDA_API_URL");
  });
});

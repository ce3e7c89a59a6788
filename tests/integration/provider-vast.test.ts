/**
 * The Vast.ai adapter against a local server speaking the parts of Vast's published API it uses
 * (tests/support/fake-clouds/vast.ts): offers, rent, late address, status, reclaim, stop, orphans, rate limits, faults.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { type OfferQuery, type PodLaunch, ProviderUnavailableError, ProvisionError } from "../../src/providers/seam";
import { VastProvider, vastOptionsFromEnv } from "../../src/providers/vast/vast-provider";
import type { Offer } from "../../src/scheduler/offers";
import { type FakeAsk, FakeVast, parseDockerFlags } from "../support/fake-clouds/vast";

const KEY = "vast-test-key";
const DISK = 50;
// storage_cost 0.15 $/GB/month × 50 GB / 720 h
const STORAGE = (0.15 * DISK) / 720;

const asks: FakeAsk[] = [
  {
    id: 101,
    gpu_name: "RTX 4090",
    num_gpus: 1,
    gpu_ram: 24_564,
    dph_base: 0.4,
    min_bid: 0.2,
    geolocation: "California, US",
    verification: "verified",
    datacenter: true,
  },
  {
    id: 102,
    gpu_name: "RTX 4090",
    num_gpus: 1,
    gpu_ram: 24_564,
    dph_base: 0.42,
    min_bid: 0.25,
    geolocation: "Texas, US",
    verification: "verified",
    datacenter: true,
  },
  {
    id: 103,
    gpu_name: "RTX 4090",
    num_gpus: 1,
    gpu_ram: 24_564,
    dph_base: 0.3,
    min_bid: 0.15,
    geolocation: "Oregon, US",
    verification: "verified",
    datacenter: false,
  },
  {
    id: 104,
    gpu_name: "RTX 4090",
    num_gpus: 2,
    gpu_ram: 24_564,
    dph_base: 0.9,
    min_bid: 0.5,
    geolocation: "Hesse, DE",
    verification: "verified",
    datacenter: true,
  },
  {
    id: 105,
    gpu_name: "A100 SXM4",
    num_gpus: 1,
    gpu_ram: 81_920,
    dph_base: 1.2,
    min_bid: 0.7,
    geolocation: "Hesse, DE",
    verification: "verified",
    datacenter: true,
  },
  {
    id: 106,
    gpu_name: "A100 SXM4",
    num_gpus: 1,
    gpu_ram: 40_960,
    dph_base: 0.7,
    min_bid: 0.4,
    geolocation: "Hesse, DE",
    verification: "verified",
    datacenter: true,
  },
  {
    id: 107,
    gpu_name: "H100 SXM",
    num_gpus: 1,
    gpu_ram: 81_559,
    dph_base: 2.0,
    min_bid: 1.1,
    geolocation: "Ontario, CA",
    verification: "unverified",
    datacenter: true,
  },
  {
    id: 108,
    gpu_name: "RTX 4090",
    num_gpus: 1,
    gpu_ram: 24_564,
    dph_base: 0.9,
    min_bid: 0.6,
    geolocation: "Nevada, US",
    verification: "verified",
    datacenter: true,
  },
];

let fake: FakeVast;
let waits: number[];
let clock: Date;

function provider(overrides: Partial<ConstructorParameters<typeof VastProvider>[0]> = {}) {
  return new VastProvider({
    apiKey: KEY,
    baseUrl: fake.url,
    diskGib: DISK,
    bidMargin: 0.1,
    now: () => clock,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...overrides,
  });
}

function launch(overrides: Partial<PodLaunch> = {}): PodLaunch {
  return {
    podId: "pod_abc123",
    instanceId: "inst_1",
    runId: "run_1",
    image: "ghcr.io/qdz/llama@sha256:0123abcd",
    command: ["llama-server", "--port", "8000", "--alias", "my model"],
    env: { MODEL_PATH: "/models/m.gguf", NOTE: "it's here" },
    ports: [{ name: "runtime", port: 8000, protocol: "http" }],
    healthPath: "/health",
    gpuType: "RTX4090",
    gpuCount: 1,
    sshAuthorizedKeys: [],
    agent: { controlUrl: "https://cp.example/agent", token: "agent-token-xyz" },
    ...overrides,
  };
}

const query: OfferQuery = { gpuTypes: [], gpuCount: 1, regions: [], tier: null };
const find = (offers: Offer[], id: string) => offers.find((o) => o.id === id);
const rents = () => fake.requests.filter((r) => r.method === "PUT");

beforeEach(() => {
  fake = new FakeVast(
    KEY,
    asks.map((a) => ({ ...a })),
  );
  waits = [];
  clock = new Date("2026-03-01T12:00:00Z");
});
afterEach(() => fake.stop());

describe("offers", () => {
  test("grouped per GPU type, count, country and tier, priced per GPU-hour in cents rounded up", async () => {
    const offers = await provider().offers({ ...query, gpuCount: 0 });
    // Secure: on-demand on verified datacenter machines only (103 is not a datacenter, 107 is unverified).
    const secureUs = find(offers, "vast/RTX4090/1x/US/secure");
    // 101 (0.40) and 108 (0.90) are both US; 108 is more than 10 % dearer, so the offer keeps 101 only.
    expect(secureUs).toMatchObject({ providerId: "vast", gpuType: "RTX4090", gpuCount: 1, vramGib: 24, region: "US", tier: "secure", availableGpus: 2 });
    expect(secureUs?.providerCostCentsPerGpuHour).toBe(Math.ceil((0.42 + STORAGE) * 100));
    expect(find(offers, "vast/RTX4090/2x/DE/secure")).toMatchObject({ providerCostCentsPerGpuHour: Math.ceil(((0.9 + STORAGE) / 2) * 100), availableGpus: 2 });
    // The 40 GB A100 is not an A100-80G.
    expect(find(offers, "vast/A100-80G/1x/DE/secure")).toMatchObject({
      vramGib: 80,
      availableGpus: 1,
      providerCostCentsPerGpuHour: Math.ceil((1.2 + STORAGE) * 100),
    });
    expect(offers.filter((o) => o.gpuType === "H100")).toEqual([]);
    // Community: bids at min_bid + 10 %, on verified machines, datacenter or not (103 included).
    const communityUs = find(offers, "vast/RTX4090/1x/US/community");
    expect(communityUs?.availableGpus).toBe(1); // 103 bids 0.165; 101 (0.22) is beyond the 10 % band
    expect(communityUs?.providerCostCentsPerGpuHour).toBe(Math.ceil((0.165 + STORAGE) * 100));
    expect(offers.every((o) => o.latencyMs >= 0)).toBe(true);
    const searches = fake.requests.filter((r) => r.path.startsWith("/api/v0/bundles"));
    expect(searches.map((r) => (r.body as { type: string }).type).sort()).toEqual(["bid", "ondemand"]);
    expect(searches.every((r) => r.authorization === `Bearer ${KEY}`)).toBe(true);
    expect(searches.find((r) => (r.body as { type: string }).type === "ondemand")?.body).toMatchObject({
      verified: { eq: true },
      datacenter: { eq: true },
      allocated_storage: DISK,
    });
  });

  test("filtered by the query: GPU types, exact GPU count, regions and tier", async () => {
    const offers = await provider().offers({ gpuTypes: ["RTX4090"], gpuCount: 2, regions: ["DE"], tier: "secure" });
    expect(offers.map((o) => o.id)).toEqual(["vast/RTX4090/2x/DE/secure"]);
    const search = fake.requests.at(-1)?.body;
    expect(search).toMatchObject({ type: "ondemand", gpu_name: { in: ["RTX 4090"] }, num_gpus: { eq: 2 }, geolocation: { in: ["DE"] } });
    expect(await provider().offers({ gpuTypes: ["L4"], gpuCount: 1, regions: [], tier: "community" })).toEqual([]);
  });

  test("a 429 waits for Retry-After, then the search succeeds", async () => {
    fake.rateLimit(2, "1");
    const offers = await provider().offers({ ...query, tier: "secure" });
    expect(offers.length).toBeGreaterThan(0);
    expect(waits).toEqual([1000, 1000]);
  });

  test("a refused key makes the provider unavailable", async () => {
    const error = await provider({ apiKey: "wrong" })
      .offers(query)
      .catch((e) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error.message).toContain("404");
  });
});

describe("provision", () => {
  test("rents the cheapest ask behind a secure offer with the launch's image, env, args, ports and label", async () => {
    const vast = provider();
    const offer = find(await vast.offers({ ...query, tier: "secure" }), "vast/RTX4090/1x/US/secure") as Offer;
    const handle = await vast.provision(launch({ sshAuthorizedKeys: ["ssh-ed25519 AAAA one@host", "ssh-ed25519 BBBB two@host"] }), offer);
    expect(handle).toMatchObject({ podId: "pod_abc123", providerId: "vast", region: "US", address: null });
    const rent = rents()[0];
    expect(rent?.path).toBe("/api/v0/asks/101/");
    const body = rent?.body as Record<string, unknown>;
    expect(body).toMatchObject({ image: launch().image, label: "qdz-pod_abc123", disk: DISK, runtype: "args", args: launch().command, cancel_unavail: true });
    expect(body.price).toBeUndefined();
    const env = Object.fromEntries(parseDockerFlags(String(body.env)).vars);
    expect(env).toMatchObject({
      MODEL_PATH: "/models/m.gguf",
      NOTE: "it's here",
      QDZ_AGENT_TOKEN: "agent-token-xyz",
      QDZ_POD_ID: "pod_abc123",
      QDZ_CONTROL_URL: "https://cp.example/agent",
    });
    expect(env.QDZ_HEALTH_URL).toBe("http://127.0.0.1:8000/health");
    // The account's SSH keys, a key a line, as the image's SSH server takes them.
    expect(env.SSH_PUBLIC_KEY).toBe("ssh-ed25519 AAAA one@host\nssh-ed25519 BBBB two@host");
    expect(env["-p 8000:8000"]).toBe("1");
    expect(handle.externalId).toBe(String(fake.instance(Number(handle.externalId)).id));
  });

  test("a community offer bids min_bid plus the margin", async () => {
    const vast = provider();
    const offer = find(await vast.offers({ ...query, tier: "community" }), "vast/RTX4090/1x/US/community") as Offer;
    await vast.provision(launch(), offer);
    expect(rents()[0]?.path).toBe("/api/v0/asks/103/");
    expect(rents()[0]?.body).toMatchObject({ price: 0.165 });
    expect(fake.instance(Number(fake.instances.keys().next().value)).is_bid).toBe(true);
  });

  test("an ask rented away under us: the next one of the offer is rented; none left is retryable", async () => {
    const vast = provider();
    const offer = find(await vast.offers({ ...query, tier: "secure" }), "vast/RTX4090/1x/US/secure") as Offer;
    fake.rentAway(101);
    await vast.provision(launch(), offer);
    expect(rents().map((r) => r.path)).toEqual(["/api/v0/asks/101/", "/api/v0/asks/102/"]);

    const other = provider();
    const de = find(await other.offers({ ...query, tier: "secure" }), "vast/A100-80G/1x/DE/secure") as Offer;
    fake.rentAway(105);
    const error = await other.provision(launch({ gpuType: "A100-80G" }), de).catch((e) => e);
    expect(error).toBeInstanceOf(ProvisionError);
    expect(error.retryable).toBe(true);
  });

  test("a 500 during the rent is a retryable provision error", async () => {
    const vast = provider();
    const offer = find(await vast.offers({ ...query, tier: "secure" }), "vast/RTX4090/1x/US/secure") as Offer;
    fake.failNextRentWith500();
    const error = await vast.provision(launch(), offer).catch((e) => e);
    expect(error).toBeInstanceOf(ProvisionError);
    expect(error.retryable).toBe(true);
    expect(rents()).toHaveLength(1); // a PUT that failed is not retried: it may have made the instance
  });

  test("a refused key is not retryable", async () => {
    const offer = find(await provider().offers({ ...query, tier: "secure" }), "vast/RTX4090/1x/US/secure") as Offer;
    const error = await provider({ apiKey: "wrong" })
      .provision(launch(), offer)
      .catch((e) => e);
    expect(error).toBeInstanceOf(ProvisionError);
    expect(error.retryable).toBe(false);
  });

  test("a process that did not list the offer searches again; never rents above the quoted price", async () => {
    const offer = find(await provider().offers({ ...query, tier: "secure" }), "vast/RTX4090/1x/US/secure") as Offer;
    const fresh = provider();
    await fresh.provision(launch(), offer);
    expect(rents()[0]?.path).toBe("/api/v0/asks/101/");
    // 102 remains, but 108 (0.90) is above the 43 cents quoted: nothing rentable at that price.
    fake.rentAway(102);
    const error = await provider()
      .provision(launch({ podId: "pod_2" }), offer)
      .catch((e) => e);
    expect(error).toBeInstanceOf(ProvisionError);
    expect(error.retryable).toBe(true);
    expect(rents()).toHaveLength(1);
  });

  test("a pod of fewer GPUs than the machine rents is refused before any rent", async () => {
    const vast = provider();
    const offer = find(await vast.offers({ ...query, gpuCount: 2, tier: "secure" }), "vast/RTX4090/2x/DE/secure") as Offer;
    const error = await vast.provision(launch(), offer).catch((e) => e);
    expect(error).toBeInstanceOf(ProvisionError);
    expect(rents()).toHaveLength(0);
  });
});

describe("status, stop and pods", () => {
  async function provisioned(tier: "secure" | "community" = "secure") {
    const vast = provider();
    const offer = find(await vast.offers({ ...query, tier }), `vast/RTX4090/1x/US/${tier}`) as Offer;
    const handle = await vast.provision(launch(), offer);
    return { vast, ref: { podId: handle.podId, externalId: handle.externalId } };
  }

  test("starting without an address, then running at the mapped port once Vast knows the IP", async () => {
    fake.addressAfterPolls = 3;
    const { vast, ref } = await provisioned();
    expect(await vast.status(ref)).toEqual({ state: "starting", address: null });
    expect(await vast.status(ref)).toEqual({ state: "starting", address: null });
    const running = await vast.status(ref);
    expect(running).toEqual({
      state: "running",
      address: { runtimeUrl: "http://203.0.113.7:48000", ports: [{ name: "runtime", port: 48000, url: "http://203.0.113.7:48000" }] },
    });
    // Another process (no memory of the launch) reads the ports back from the instance's environment.
    expect(await provider().status(ref)).toEqual(running);
  });

  test("an outbid interruptible instance is reclaimed at the time first seen", async () => {
    const { vast, ref } = await provisioned("community");
    await vast.status(ref);
    fake.outbid(Number(ref.externalId));
    const seen = clock;
    const first = await vast.status(ref);
    expect(first).toMatchObject({ state: "reclaimed", at: seen });
    expect(first.state === "reclaimed" && first.reason).toContain("outbid");
    clock = new Date(seen.getTime() + 60_000);
    expect(await vast.status(ref)).toMatchObject({ state: "reclaimed", at: seen });
  });

  test("an exited container is exited; a destroyed or unknown instance is gone", async () => {
    const { vast, ref } = await provisioned();
    fake.exit(Number(ref.externalId), "OOM");
    expect(await vast.status(ref)).toEqual({ state: "exited", reason: "the container exited: OOM" });
    await vast.stop(ref);
    expect(await vast.status(ref)).toEqual({ state: "gone" });
    fake.unknownInstance = "404";
    expect(await vast.status(ref)).toEqual({ state: "gone" });
  });

  test("stop destroys the instance and is idempotent", async () => {
    const { vast, ref } = await provisioned();
    await vast.stop(ref);
    expect(fake.instances.has(Number(ref.externalId))).toBe(false);
    await vast.stop(ref);
    const deletes = fake.requests.filter((r) => r.method === "DELETE");
    expect(deletes.map((r) => r.path)).toEqual([`/api/v0/instances/${ref.externalId}/`, `/api/v0/instances/${ref.externalId}/`]);
  });

  test("pods() pages through the account's instances and keeps the platform's by label prefix", async () => {
    const { vast, ref } = await provisioned();
    for (let i = 0; i < 30; i++) fake.addInstance(i % 3 === 0 ? `qdz-pod_orphan${i}` : `someone-else-${i}`, 1_767_225_600 + i);
    fake.addInstance(null, 1_767_225_600);
    const pods = await vast.pods();
    expect(pods).toHaveLength(11);
    expect(pods.find((p) => p.externalId === ref.externalId)?.podId).toBe("pod_abc123");
    expect(pods.find((p) => p.podId === "pod_orphan3")?.createdAt).toEqual(new Date((1_767_225_600 + 3) * 1000));
    expect(fake.requests.filter((r) => r.path.startsWith("/api/v1/instances")).length).toBe(2);
  });
});

describe("configuration", () => {
  test("off without a key; the URL and the rest optional", () => {
    expect(vastOptionsFromEnv({})).toBeNull();
    expect(vastOptionsFromEnv({ VAST_API_KEY: "  " })).toBeNull();
    expect(vastOptionsFromEnv({ VAST_API_KEY: "k", VAST_API_URL: "http://127.0.0.1:1", VAST_BID_MARGIN_PERCENT: "5" })).toMatchObject({
      apiKey: "k",
      baseUrl: "http://127.0.0.1:1",
      bidMargin: 0.05,
    });
    expect(() => vastOptionsFromEnv({ VAST_API_KEY: "k", VAST_DISK_GIB: "lots" })).toThrow("VAST_DISK_GIB");
  });
});

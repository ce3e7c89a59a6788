import { describe, expect, test } from "bun:test";
import { type OfferSource, OffersCache } from "../../src/providers/offers-cache";
import type { OfferQuery } from "../../src/providers/seam";
import type { Offer } from "../../src/scheduler/offers";

const offer = (providerId: string, gpuType: string): Offer => ({
  id: `${providerId}/${gpuType}`,
  providerId,
  gpuType,
  gpuCount: 8,
  vramGib: 24,
  region: "eu",
  tier: "secure",
  providerCostCentsPerGpuHour: 50,
  availableGpus: 4,
  latencyMs: 20,
});

/** A provider whose answers the test scripts: offers, a failure, or an answer that never comes. */
class ScriptedSource implements OfferSource {
  calls: OfferQuery[] = [];
  next: () => Promise<Offer[]>;
  constructor(
    readonly id: string,
    offers: Offer[],
  ) {
    this.next = async () => offers;
  }
  offers(query: OfferQuery): Promise<Offer[]> {
    this.calls.push(query);
    return this.next();
  }
}

describe("offers cache", () => {
  test("placement reads the last answers with their age, without asking the providers again", async () => {
    let now = 1_000_000;
    const local = new ScriptedSource("local", [offer("local", "L4")]);
    const cloud = new ScriptedSource("cloud", [offer("cloud", "H100"), offer("cloud", "A100-80G")]);
    const cache = new OffersCache([local, cloud], { now: () => now, refreshMs: 30_000 });
    expect(cache.offers()).toEqual([]);
    expect(cache.health().map((h) => h.state)).toEqual(["unknown", "unknown"]);

    await cache.ready();
    now += 12_000;
    expect(cache.offers().map((o) => [o.id, o.ageSeconds])).toEqual([
      ["local/L4", 12],
      ["cloud/H100", 12],
      ["cloud/A100-80G", 12],
    ]);
    expect(local.calls).toHaveLength(1);
    // Every GPU type, region and tier: placement filters.
    expect(local.calls[0]).toEqual({ gpuTypes: [], gpuCount: 1, regions: [], tier: null });
  });

  test("a provider that fails to answer is degraded and its offers are ranked out until it answers again", async () => {
    let now = 0;
    const cloud = new ScriptedSource("cloud", [offer("cloud", "H100")]);
    const local = new ScriptedSource("local", [offer("local", "L4")]);
    const cache = new OffersCache([local, cloud], { now: () => now });
    await cache.ready();

    cloud.next = async () => {
      throw new Error("GET /v2/pods: 503 service unavailable");
    };
    now += 30_000;
    await cache.refresh();
    expect(cache.offers().map((o) => o.providerId)).toEqual(["local"]);
    expect(cache.health().find((h) => h.providerId === "cloud")).toMatchObject({
      state: "degraded",
      reason: "GET /v2/pods: 503 service unavailable",
      answeredAt: new Date(0).toISOString(),
    });

    cloud.next = async () => [offer("cloud", "H100")];
    await cache.refresh("cloud");
    expect(cache.offers().map((o) => o.providerId)).toEqual(["local", "cloud"]);
    expect(cache.health().every((h) => h.state === "healthy")).toBe(true);
  });

  test("an answer that never comes times out; answers too old are not used", async () => {
    let now = 0;
    const slow = new ScriptedSource("slow", [offer("slow", "L4")]);
    const cache = new OffersCache([slow], { now: () => now, timeoutMs: 50, maxAgeMs: 60_000 });
    await cache.ready();
    expect(cache.offers()).toHaveLength(1);

    now = 61_000;
    expect(cache.offers()).toEqual([]);
    expect(cache.health()[0]).toMatchObject({ state: "degraded", reason: "its offers are 61 s old" });

    slow.next = () => new Promise(() => {});
    await cache.refresh();
    expect(cache.health()[0]).toMatchObject({ state: "degraded", reason: "slow did not answer within 50 ms" });
  });

  test("refreshes under way are joined, not doubled", async () => {
    const cloud = new ScriptedSource("cloud", [offer("cloud", "H100")]);
    let answer: (offers: Offer[]) => void = () => {};
    cloud.next = () => new Promise((resolve) => (answer = resolve));
    const cache = new OffersCache([cloud]);
    const first = cache.refresh();
    const second = cache.refresh();
    answer([offer("cloud", "H100")]);
    await Promise.all([first, second]);
    expect(cloud.calls).toHaveLength(1);
    expect(cache.offers()).toHaveLength(1);
  });
});

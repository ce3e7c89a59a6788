/**
 * Placement across providers (issue 15): this machine's local provider beside two simulated clouds, RunPod and
 * Lambda, each a local server speaking that cloud's published API and driven by the real adapter, and a third
 * cloud that does not answer. The scheduler places by the same hard rules everywhere, and the decision the
 * Details tab shows says why each offer was ruled out and which provider was left out.
 */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { instanceRuns, instances, type PricingSnapshot } from "../../db/schema";
import { provisionRun } from "../../src/instances/provisioning";
import { reconcile } from "../../src/instances/reconcile";
import { beginRun } from "../../src/instances/runs";
import { instanceDetail } from "../../src/instances/views";
import type { JobQueue } from "../../src/jobs/queue";
import { EuroPricedProvider } from "../../src/providers/currency";
import { LambdaProvider } from "../../src/providers/lambda/lambda-provider";
import { parseInventory } from "../../src/providers/local/inventory";
import { LocalProvider } from "../../src/providers/local/local-provider";
import { RunPodProvider } from "../../src/providers/runpod/runpod-provider";
import type { Provider } from "../../src/providers/seam";
import { freshDatabase } from "../support/db";
import { insertInstanceRow, newUser } from "../support/factories";
import { FakeLambda } from "../support/fake-clouds/lambda";
import { FakeRunPod } from "../support/fake-clouds/runpod";

const database = await freshDatabase();
const { db } = database;
const jobs: JobQueue = { send: async () => null };
const USD_TO_EUR = 0.92;

const runpodCloud = new FakeRunPod().start();
const lambdaCloud = new FakeLambda(() => Date.now()).start();
const podsDir = mkdtempSync(join(tmpdir(), "qdz-placement-clouds-"));
afterAll(() => {
  runpodCloud.stop();
  lambdaCloud.stop();
  rmSync(podsDir, { recursive: true, force: true });
});

/** The H100's locked rate: €3.87 per GPU-hour, as the catalog prices it. */
const pricing: PricingSnapshot = {
  lockedAt: new Date().toISOString(),
  modelClass: "llm",
  tier: "secure",
  gpuCount: 1,
  rows: [{ gpuType: "H100-80G", rateCentsPerGpuHour: 387, providerCostCentsPerGpuHour: 235, catalogUpdatedAt: "" }],
};

/** RunPod's H100 at `usd` an hour in two data centers; Lambda's at `lambdaCents` in us-east-1. */
function stock(usd: number, lambdaCents: number, runpodAvailability: "HIGH" | "LOW" = "HIGH") {
  runpodCloud.gpus = [
    {
      id: "NVIDIA H100 80GB HBM3",
      name: "H100 SXM",
      pool: "HOPPER_80",
      manufacturer: "NVIDIA",
      memory: 80,
      secure: true,
      community: true,
      price: { secure: usd, community: usd / 2 },
      maxCount: { secure: 8, community: 8 },
      stock: {
        SECURE: [
          { id: "EU-RO-1", availability: runpodAvailability },
          { id: "US-KS-2", availability: runpodAvailability },
        ],
        COMMUNITY: [],
      },
    },
  ];
  lambdaCloud.instanceTypes = {
    gpu_1x_h100_sxm5: {
      instance_type: {
        name: "gpu_1x_h100_sxm5",
        description: "1x H100 (80 GB SXM5)",
        gpu_description: "H100 (80 GB SXM5)",
        price_cents_per_hour: lambdaCents,
        specs: { vcpus: 26, memory_gib: 225, storage_gib: 2750, gpus: 1 },
      },
      regions_with_capacity_available: [{ name: "us-east-1", description: "Virginia, USA" }],
    },
  };
}

/** A fresh set of providers (a fresh offers cache): the local machine (no H100), RunPod, Lambda, and a cloud that is down. */
function providers(): Provider[] {
  const local = new LocalProvider({
    podsDir,
    inventory: parseInventory("L4:2", [{ id: "L4", vramGib: 24, cost: { secure: 48, community: 30 } }]),
    referenceBootMs: 0,
    findBinary: () => null,
  });
  const runpod = new RunPodProvider({ apiKey: runpodCloud.apiKey, baseUrl: runpodCloud.url, sleep: async () => {} });
  const lambda = new LambdaProvider({ apiKey: lambdaCloud.apiKey, baseUrl: lambdaCloud.url, launchIntervalMs: 0, sleep: async () => {} });
  const down: Provider = {
    id: "vast",
    offers: async () => {
      throw new Error("GET /api/v0/bundles: 503 service unavailable");
    },
    provision: async () => {
      throw new Error("never asked");
    },
    stop: async () => {},
    status: async () => ({ state: "gone" }),
    pods: async () => [],
  };
  return [local, new EuroPricedProvider(runpod, USD_TO_EUR), new EuroPricedProvider(lambda, USD_TO_EUR), down];
}

/** A pending H100 instance with its first run, as a launch leaves it. */
async function pendingInstance(fields: { allowedRegions?: string[] } = {}) {
  const user = await newUser(db);
  const instanceId = await insertInstanceRow(db, {
    accountId: user.accountId,
    state: "pending",
    servingName: `h100-${user.accountId.slice(-6).toLowerCase()}`,
    hfRepo: "Qwen/Qwen2.5-0.5B-Instruct",
    task: "chat",
    gpuPreferences: ["H100-80G"],
    allowedRegions: fields.allowedRegions ?? [],
    pricingSnapshot: pricing,
    runtimeConfig: {
      runtimeId: "vllm",
      templateId: null,
      image: "vllm/vllm-openai@sha256:30183ac1",
      command: ["vllm", "serve", "{model}", "--host", "{host}", "--port", "{port}"],
      localBinary: "vllm",
      port: 8000,
      healthPath: "/health",
      ports: [],
      contextLength: 4096,
    },
  });
  const runId = await beginRun(db, instanceId);
  await db.update(instances).set({ currentRunId: runId }).where(eq(instances.id, instanceId));
  return { ctx: { db, accountId: user.accountId, role: "owner" as const, actor: { kind: "system" as const } }, instanceId, runId };
}

async function place(instanceId: string, runId: string) {
  const deps = {
    db,
    jobs,
    providers: providers(),
    controlUrl: "https://control.example",
    hubEndpoint: "https://huggingface.co",
    maxAttempts: 3,
    leaseSeconds: 30,
  };
  return provisionRun(deps, instanceId, runId);
}

beforeEach(() => {
  runpodCloud.pods.clear();
  lambdaCloud.instances.clear();
  // Lambda's one launch per 10 s is the adapter's own test's subject; here each test launches at most once, back to back.
  lambdaCloud.launchIntervalMs = 0;
  runpodCloud.answerDelayMs = 0;
  lambdaCloud.answerDelayMs = 0;
});

describe("placement across the local machine and two clouds", () => {
  test("regional pinning is never violated: only RunPod's EU-RO-1 is allowed, and the pod lands there", async () => {
    stock(2.69, 249);
    const { ctx, instanceId, runId } = await pendingInstance({ allowedRegions: ["EU-RO-1"] });
    expect(await place(instanceId, runId)).toBe("provisioned");

    const [run] = await db.select().from(instanceRuns).where(eq(instanceRuns.id, runId));
    expect(run).toMatchObject({ providerId: "runpod", region: "EU-RO-1", gpuType: "H100-80G", rateCentsPerHour: 387 });
    // RunPod's own id for the pod, and its address known at once (its proxy URL).
    expect(run!.externalPodId).toBe([...runpodCloud.pods.keys()][0]!);
    expect(run!.runtimeUrl).toBe(`https://${run!.externalPodId}-8000.proxy.runpod.net`);

    const { placement } = await instanceDetail(ctx, instanceId);
    const considered = placement!.considered as { rejected: { offer: { id: string }; reason: string }[]; unavailable: unknown[] };
    const reasons = Object.fromEntries(considered.rejected.map((r) => [r.offer.id, r.reason]));
    expect(reasons["lambda/gpu_1x_h100_sxm5/us-east-1/secure"]).toBe("region us-east-1 is outside the allowed regions");
    expect(reasons["runpod/H100-80G/US-KS-2/secure"]).toBe("region US-KS-2 is outside the allowed regions");
    expect(reasons["local/L4/secure"]).toBe("GPU L4 is not among the preferences");
    // The cloud that did not answer is left out, and says why.
    expect(considered.unavailable).toEqual([{ providerId: "vast", reason: "GET /api/v0/bundles: 503 service unavailable" }]);
  });

  test.each([
    ["Lambda", 3.5, 183, "lambda"],
    ["RunPod", 1.8, 329, "runpod"],
  ] as const)(
    "the cheapest eligible offer wins when the clouds are otherwise alike (%s cheaper), and the Details tab says why",
    async (_, usd, lambdaCents, cheapest) => {
      // The same H100 at the same locked rate for the customer, one GPU free on each cloud, both as far away.
      stock(usd, lambdaCents, "LOW");
      runpodCloud.answerDelayMs = 25;
      lambdaCloud.answerDelayMs = 25;
      const { ctx, instanceId, runId } = await pendingInstance({ allowedRegions: ["EU-RO-1", "us-east-1"] });
      expect(await place(instanceId, runId)).toBe("provisioned");
      const [run] = await db.select().from(instanceRuns).where(eq(instanceRuns.id, runId));
      expect(run!.providerId).toBe(cheapest);

      // Ranked best first, the customer sees each offer's score by signal: cost made the difference.
      const { placement } = await instanceDetail(ctx, instanceId);
      const ranked = (placement!.considered as { ranked: { offer: { providerId: string }; components: { cost: number; availability: number } }[] }).ranked;
      expect(ranked.map((r) => r.offer.providerId)).toEqual([cheapest, cheapest === "lambda" ? "runpod" : "lambda"]);
      expect(ranked[0]!.components.cost).toBeGreaterThan(ranked[1]!.components.cost);
      expect(ranked[0]!.components.availability).toBe(ranked[1]!.components.availability);
    },
  );

  test("capacity that would cost more than the locked rate is ruled out, with the reason; the pod goes where it pays", async () => {
    // RunPod at $4.50/h is €4.14, above the €3.87 the instance pays; Lambda at $2.49 is €2.30.
    stock(4.5, 249);
    const { ctx, instanceId, runId } = await pendingInstance();
    expect(await place(instanceId, runId)).toBe("provisioned");

    const runOf = async () => (await db.select().from(instanceRuns).where(eq(instanceRuns.id, runId)))[0]!;
    expect(await runOf()).toMatchObject({ providerId: "lambda", region: "us-east-1" });
    // Lambda's IP comes after boot: the run has no address yet, so the proxy does not route to it...
    expect((await runOf()).runtimeUrl).toBeNull();
    // ...until the reconciler, asking Lambda at its bounded rate, records it.
    const reconcileDeps = { db, jobs, providers: providers(), bootstrapDeadlineSeconds: 900, heartbeatTimeoutSeconds: 30, provisionLeaseSeconds: 30 };
    for (let pass = 0; pass < 5 && !(await runOf()).runtimeUrl; pass++) await reconcile(reconcileDeps);
    const ip = [...lambdaCloud.instances.values()][0]!.ip;
    expect(ip).toBeTruthy();
    expect((await runOf()).runtimeUrl).toBe(`http://${ip}:8000`);

    const { placement } = await instanceDetail(ctx, instanceId);
    const considered = placement!.considered as { rejected: { offer: { id: string }; reason: string }[] };
    const reasons = Object.fromEntries(considered.rejected.map((r) => [r.offer.id, r.reason]));
    expect(reasons["runpod/H100-80G/EU-RO-1/secure"]).toBe("costs the platform 414 cents/h, above the locked rate of 387");
  });

  test("a 500 from one cloud while provisioning fails over to the next offer, on another cloud, and both attempts are recorded", async () => {
    // RunPod ranks first (cheaper, more capacity), then answers 500 to the create.
    stock(2.0, 329);
    runpodCloud.failNextCreate(500);
    const { ctx, instanceId, runId } = await pendingInstance({ allowedRegions: ["EU-RO-1", "us-east-1"] });
    expect(await place(instanceId, runId)).toBe("provisioned");

    const { placement, runs } = await instanceDetail(ctx, instanceId);
    const attempts = placement!.attempts as { offerId: string; outcome: string; error?: string }[];
    expect(attempts.map((a) => [a.offerId, a.outcome])).toEqual([
      ["runpod/H100-80G/EU-RO-1/secure", "failed"],
      ["lambda/gpu_1x_h100_sxm5/us-east-1/secure", "provisioned"],
    ]);
    expect(attempts[0]!.error).toContain("500");
    expect(runs[0]).toMatchObject({ providerId: "lambda", region: "us-east-1" });
    expect(runpodCloud.pods.size).toBe(0);
  });

  test("nothing placeable anywhere: the instance fails with the one reason, never placed at a loss", async () => {
    stock(4.5, 449);
    const { ctx, instanceId, runId } = await pendingInstance();
    expect(await place(instanceId, runId)).toBe("failed");
    const detail = await instanceDetail(ctx, instanceId);
    expect(detail.state).toBe("failed");
    expect(detail.failureReason).toBe("No H100-80G is available at the secure price right now.");
    expect(runpodCloud.pods.size + lambdaCloud.instances.size).toBe(0);
  });
});

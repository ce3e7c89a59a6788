import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { instances, placementDecisions } from "../../db/schema";
import { provisionRun } from "../../src/instances/provisioning";
import { endReclaimedRun } from "../../src/instances/reclaim";
import { readPodRecord } from "../../src/providers/local/pod-files";
import { type Provider, ProvisionError } from "../../src/providers/seam";
import type { Offer } from "../../src/scheduler/offers";
import { referenceLaunch, startCompute, waitFor } from "../support/compute";

const compute = await startCompute();

/** A provider whose capacity vanishes at provisioning time, as a GPU cloud's sometimes does. */
function vanishingProvider(id: string, offers: Partial<Offer>[]): Provider & { attempts: string[] } {
  const attempts: string[] = [];
  return {
    id,
    attempts,
    offers: async () =>
      offers.map((o, i) => ({
        id: `${id}/${i}`,
        providerId: id,
        gpuType: "L4",
        gpuCount: 8,
        vramGib: 24,
        region: "local",
        tier: "secure",
        providerCostCentsPerGpuHour: 1,
        availableGpus: 8,
        latencyMs: 1,
        ...o,
      })),
    provision: async (_spec, offer) => {
      attempts.push(offer.id);
      throw new ProvisionError(`capacity for ${offer.id} was taken`, true);
    },
    stop: async () => {},
    status: async () => ({ state: "gone" }),
    pods: async () => [],
  };
}

const launch = referenceLaunch;

/** Launches with the queue's provisioning held back, so the test runs provisioning itself with its own providers. */
async function pendingInstance(servingName: string) {
  const { api } = await compute.fundedUser();
  // Provisioning stays off for this file: each test runs it by hand.
  await compute.boss.offWork("instances.provision");
  const launched = await api.instances.launch({ ...launch, servingName });
  const detail = await api.instances.get({ id: launched.id });
  return { api, instance: detail, runId: detail.runs[0]!.id };
}

describe("failover", () => {
  test("a provision error moves on to the next-ranked offer, and every attempt is recorded", async () => {
    const { api, instance, runId } = await pendingInstance("failover");
    // Cheaper in the ranking (lower provider cost), but its capacity is gone when asked.
    const flaky = vanishingProvider("flaky", [{ providerCostCentsPerGpuHour: 1 }]);
    const outcome = await provisionRun(
      {
        db: compute.db,
        jobs: compute.jobs,
        providers: [flaky, compute.provider],
        controlUrl: compute.url,
        hubEndpoint: compute.config.HF_ENDPOINT,
        maxAttempts: 3,
        leaseSeconds: 30,
      },
      instance.id,
      runId,
    );
    expect(outcome).toBe("provisioned");
    expect(flaky.attempts).toEqual(["flaky/0"]);
    const [decision] = await compute.db.select().from(placementDecisions).where(eq(placementDecisions.instanceId, instance.id));
    expect(decision!.attempts).toEqual([
      { offerId: "flaky/0", outcome: "failed", error: "capacity for flaky/0 was taken" },
      { offerId: "local/L4/secure", outcome: "provisioned" },
    ]);
    expect(decision!.chosenOfferId).toBe("local/L4/secure");
    await waitFor(
      () => api.instances.get({ id: instance.id }),
      (i) => i.state === "running",
      20_000,
      "running",
    );
    await api.instances.delete({ id: instance.id });
  }, 60_000);

  test("failover stops at the bound: the instance fails, says why, and is never billed", async () => {
    const { api, instance, runId } = await pendingInstance("bounded");
    const flaky = vanishingProvider("flaky", [{}, { region: "local" }, { latencyMs: 5 }, { latencyMs: 9 }]);
    const outcome = await provisionRun(
      {
        db: compute.db,
        jobs: compute.jobs,
        providers: [flaky],
        controlUrl: compute.url,
        hubEndpoint: compute.config.HF_ENDPOINT,
        maxAttempts: 2,
        leaseSeconds: 30,
      },
      instance.id,
      runId,
    );
    expect(outcome).toBe("failed");
    expect(flaky.attempts).toHaveLength(2);
    const failed = await api.instances.get({ id: instance.id });
    expect(failed.state).toBe("failed");
    expect(failed.failureReason).toStartWith("every offer tried failed to provision");
    expect(failed.failureRemediation).toContain("Start the instance again");
    expect(failed.runs[0]!.runningAt).toBeNull();
  }, 60_000);

  test("provisioning is idempotent: a second run of the job leaves a provisioned run alone", async () => {
    const { instance, runId } = await pendingInstance("idempotent");
    const deps = {
      db: compute.db,
      jobs: compute.jobs,
      providers: [compute.provider],
      controlUrl: compute.url,
      hubEndpoint: compute.config.HF_ENDPOINT,
      maxAttempts: 3,
      leaseSeconds: 30,
    };
    const [first, second] = await Promise.all([provisionRun(deps, instance.id, runId), provisionRun(deps, instance.id, runId)]);
    expect([first, second].sort()).toEqual(["provisioned", "skipped"]);
    expect(await provisionRun(deps, instance.id, runId)).toBe("skipped");
    const podsOfRun = (await compute.provider.pods()).map((p) => readPodRecord(compute.podsDir, p.podId)).filter((r) => r?.runId === runId);
    expect(podsOfRun).toHaveLength(1);
  }, 60_000);
});

describe("re-placement after a reclaim", () => {
  test("a smart instance whose community pod was reclaimed gets a new run; when no capacity is left it stops, not fails", async () => {
    const { api, instance, runId } = await pendingInstance("reclaimed");
    const deps = {
      db: compute.db,
      jobs: compute.jobs,
      providers: [compute.provider],
      controlUrl: compute.url,
      hubEndpoint: compute.config.HF_ENDPOINT,
      maxAttempts: 3,
      leaseSeconds: 30,
    };
    expect(await provisionRun(deps, instance.id, runId)).toBe("provisioned");
    const running = await waitFor(
      () => api.instances.get({ id: instance.id }),
      (i) => i.state === "running",
      20_000,
      "running",
    );
    const [row] = await compute.db.select().from(instances).where(eq(instances.id, instance.id));
    const replaced = await endReclaimedRun(compute.db, compute.jobs, row!, runId, {
      providerId: "local",
      at: new Date(),
      reason: "spot capacity taken back",
    });
    expect(replaced).toMatchObject({ state: "pending" });
    expect(replaced!.currentRunId).not.toBe(runId);
    // The same reclaim seen twice (two reconcilers) re-places once.
    expect(await endReclaimedRun(compute.db, compute.jobs, row!, runId, { providerId: "local", at: new Date(), reason: "again" })).toBeNull();

    const pending = await api.instances.get({ id: instance.id });
    expect(pending.runs.map((run) => [run.id, run.endedBecause])).toEqual([
      [replaced!.currentRunId, null],
      [runId, "reclaimed"],
    ]);
    expect(pending.events.at(-1)).toMatchObject({ from: "running", to: "pending" });
    expect(pending.events.at(-1)!.cause).toStartWith("Re-placing: its community pod was reclaimed by local (spot capacity taken back)");
    expect(running.runs[0]!.id).toBe(runId);

    // No provider has capacity now: the re-placement stops the instance with the reason; Start is the user's choice.
    expect(await provisionRun({ ...deps, providers: [] }, instance.id, replaced!.currentRunId!)).toBe("failed");
    const stopped = await api.instances.get({ id: instance.id });
    expect(stopped.state).toBe("stopped");
    expect(stopped.failureReason).toBeNull();
    expect(stopped.events.at(-1)!.cause).toStartWith("Stopped: no capacity to re-place it after the reclaim");
    expect(stopped.runs[0]!.endedBecause).toBe("placement_failed");
  }, 60_000);
});

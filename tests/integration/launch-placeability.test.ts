/**
 * A launch nothing can host is refused before anything is created; one that
 * was placeable when asked but whose capacity is taken by provisioning time
 * fails with the one reason that matters.
 */
import { describe, expect, test } from "bun:test";
import { count, eq } from "drizzle-orm";
import { instanceRuns, instances } from "../../db/schema";
import type { DomainError } from "../../src/errors";
import { provisionRun } from "../../src/instances/provisioning";
import { referenceLaunch, startCompute } from "../support/compute";
import { expectTrpcError } from "../support/errors";

// The local provider here has L4:4, L40S:1 and A100-80G:1.
const compute = await startCompute();

const instancesOf = async (accountId: string) => (await compute.db.select({ n: count() }).from(instances).where(eq(instances.accountId, accountId)))[0]!.n;

describe("the launch verb refuses what no offer can host", () => {
  test("8×H200, which no provider offers: refused naming gpuPreferences, nothing created, nothing queued", async () => {
    const { user, api } = await compute.fundedUser();
    const error = await expectTrpcError(
      api.instances.launch({ ...referenceLaunch, gpuPreferences: ["H200-141G"], gpuCount: 8, servingName: "h200" }),
      "PRECONDITION_FAILED",
    );
    expect(error.message).toBe("No provider offers H200-141G. Nothing was launched.");
    expect((error.cause as DomainError).field).toBe("gpuPreferences");
    expect(await instancesOf(user.accountId)).toBe(0);
    expect(await api.instances.list()).toEqual([]);
  });

  test("a region nobody offers: refused naming allowedRegions", async () => {
    const { user, api } = await compute.fundedUser();
    const error = await expectTrpcError(api.instances.launch({ ...referenceLaunch, allowedRegions: ["eu-mars"], servingName: "mars" }), "PRECONDITION_FAILED");
    expect(error.message).toBe("No L4 is offered in eu-mars; there is L4 in local. Nothing was launched.");
    expect((error.cause as DomainError).field).toBe("allowedRegions");
    expect(await instancesOf(user.accountId)).toBe(0);
  });

  test("the check says the same before a launch, with the alternative, and picks a GPU when none is chosen", async () => {
    const { api } = await compute.fundedUser();
    const check = await api.instances.check({ ...referenceLaunch, gpuPreferences: ["L40S"], maxPriceCentsPerHour: 100 });
    expect(check.placement).toMatchObject({
      placeable: false,
      field: "maxPriceCentsPerHour",
      message: "1×L40S costs €1.56/h, above your maximum of €1.00/h; 1 L4 is, at €0.79/h.",
    });
    const picked = await api.instances.check({ ...referenceLaunch, gpuPreferences: [] });
    expect(picked.placement.picked).toMatchObject({ gpuType: "L4", priceCentsPerHour: 79 });
    expect(picked.placement.picked?.why).toMatch(/^cheapest free GPU with ≥ \d+ GiB$/);
    // The model is judged on the GPU picked.
    expect(picked.assessment).toMatchObject({ ok: true, availableGiB: 24 });
  });
});

describe("a launch with no GPU type chosen", () => {
  test("gets the cheapest free GPU the model fits on, and its timeline says which and why", async () => {
    const { api } = await compute.fundedUser();
    const launched = await api.instances.launch({ ...referenceLaunch, gpuPreferences: [], servingName: "picked" });
    expect(launched.gpuPreferences).toEqual(["L4"]);
    const detail = await api.instances.get({ id: launched.id });
    expect(detail.events[0]!.cause).toMatch(/^launched, on L4 \(picked: cheapest free GPU with ≥ \d+ GiB\)$/);
    await api.instances.delete({ id: launched.id });
  });
});

describe("capacity taken between the launch and its placement", () => {
  test("both launches pass the check; the second fails at placement with the one reason", async () => {
    // Provisioning is run by hand here, so both launches see the one A100 free.
    await compute.boss.offWork("instances.provision");
    const { api } = await compute.fundedUser();
    const a100 = { ...referenceLaunch, gpuPreferences: ["A100-80G"] };
    const first = await api.instances.launch({ ...a100, servingName: "a100-first" });
    const second = await api.instances.launch({ ...a100, servingName: "a100-second" });
    const deps = {
      db: compute.db,
      jobs: compute.jobs,
      providers: [compute.provider],
      controlUrl: compute.url,
      hubEndpoint: compute.config.HF_ENDPOINT,
      maxAttempts: 3,
      leaseSeconds: 30,
    };
    const runOf = async (id: string) => (await compute.db.select().from(instanceRuns).where(eq(instanceRuns.instanceId, id)))[0]!.id;
    expect(await provisionRun(deps, first.id, await runOf(first.id))).toBe("provisioned");
    expect(await provisionRun(deps, second.id, await runOf(second.id))).toBe("failed");

    const failed = await api.instances.get({ id: second.id });
    expect(failed.state).toBe("failed");
    expect(failed.failureReason).toBe("No A100-80G is free right now.");
    expect(failed.failureRemediation).toBe("Allow another GPU type in Settings, or Start again when capacity frees up.");
    // The event says the same one reason (each offer's rule-out stays in the stored decision).
    expect(failed.events.at(-1)?.cause).toBe("placement failed: No A100-80G is free right now.");

    // Now the launch itself is refused, naming the cheapest GPU that is free.
    const error = await expectTrpcError(api.instances.launch({ ...a100, servingName: "a100-third" }), "PRECONDITION_FAILED");
    expect(error.message).toBe("No A100-80G is free right now; 1 L4 is, at €0.79/h. Nothing was launched.");
    await api.instances.stop({ id: first.id });
  }, 60_000);
});

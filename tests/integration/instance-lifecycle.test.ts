import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isAlive } from "../../src/platform/embedded-postgres";
import { referenceLaunch, startCompute, waitFor } from "../support/compute";
import { expectTrpcError } from "../support/errors";

const compute = await startCompute();
const launch = referenceLaunch;

describe("an instance's life on the local provider", () => {
  test("launch → running → answers → stop → start (new pod) → runtime killed → failed with the reason", async () => {
    const { api } = await compute.fundedUser();
    const launched = await api.instances.launch({ ...launch, name: "chat-a" });
    expect(launched).toMatchObject({ state: "pending", servingName: "qwen2.5-0.5b-instruct", displayName: "chat-a" });

    const running = await waitFor(
      () => api.instances.get({ id: launched.id }),
      (i) => i.state === "running",
      20_000,
      "running",
    );
    expect(running).toMatchObject({ providerId: "local", region: "local", gpuType: "L4", rateCentsPerHour: 79 });
    expect(running.events.map((e) => e.to)).toEqual(["pending", "running"]);
    expect(running.events[1]!.cause).toBe("the runtime passed its health check");
    const firstRun = running.runs[0]!;
    expect(firstRun.runtimeUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(running.placement?.chosenOfferId).toBe("local/L4/secure");

    // The runtime answers directly, as the /v1 proxy will call it.
    const models = await (await fetch(`${firstRun.runtimeUrl}/v1/models`)).json();
    expect(models.data[0].id).toBe("qwen2.5-0.5b-instruct");
    const chat = await fetch(`${firstRun.runtimeUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "qwen2.5-0.5b-instruct", messages: [{ role: "user", content: "Hello" }], max_tokens: 5 }),
    });
    expect((await chat.json()).choices[0].finish_reason).toBe("length");

    await api.instances.stop({ id: launched.id });
    const stopped = await waitFor(
      () => api.instances.get({ id: launched.id }),
      (i) => i.state === "stopped",
      20_000,
      "stopped",
    );
    expect(stopped.events.map((e) => e.to)).toEqual(["pending", "running", "stopping", "stopped"]);
    expect(await fetch(`${firstRun.runtimeUrl}/health`).catch(() => null)).toBeNull();
    expect(await compute.provider.status({ podId: firstRun.podId!, externalId: firstRun.podId! })).toEqual({ state: "gone" });

    await api.instances.start({ id: launched.id });
    const again = await waitFor(
      () => api.instances.get({ id: launched.id }),
      (i) => i.state === "running",
      20_000,
      "running again",
    );
    expect(again.runs).toHaveLength(2);
    expect(again.runs[0]!.podId).not.toBe(firstRun.podId);

    const workloadPid = Number(readFileSync(join(compute.podsDir, again.runs[0]!.podId!, "workload.pid"), "utf8"));
    process.kill(workloadPid, "SIGKILL");
    const failed = await waitFor(
      () => api.instances.get({ id: launched.id }),
      (i) => i.state === "failed",
      20_000,
      "failed",
    );
    expect(failed.failureReason).toBe("The runtime process was killed by SIGKILL.");
    expect(failed.failureRemediation).toContain("ran out of memory or was killed");
    expect(isAlive(workloadPid)).toBe(false);
  }, 90_000);

  test("stop many stops every selected instance in one request; delete frees the serving name", async () => {
    const { api } = await compute.fundedUser();
    const a = await api.instances.launch({ ...launch, servingName: "bulk-a" });
    const b = await api.instances.launch({ ...launch, servingName: "bulk-b" });
    await waitFor(
      () => api.instances.list(),
      (list) => list.every((i) => i.state === "running"),
      20_000,
      "both running",
    );
    const result = await api.instances.stopMany({ ids: [a.id, b.id] });
    expect(result.changed.sort()).toEqual([a.id, b.id].sort());
    await waitFor(
      () => api.instances.list(),
      (list) => list.every((i) => i.state === "stopped"),
      20_000,
      "both stopped",
    );
    const again = await api.instances.stopMany({ ids: [a.id] });
    expect(again).toEqual({ changed: [], skipped: [{ id: a.id, state: "stopped", reason: "already stopped" }] });

    await expectTrpcError(api.instances.launch({ ...launch, servingName: "bulk-a" }), "CONFLICT");
    await api.instances.deleteMany({ ids: [a.id, b.id] });
    expect(await api.instances.list()).toEqual([]);
    await expectTrpcError(api.instances.get({ id: a.id }), "NOT_FOUND");
    const reused = await api.instances.launch({ ...launch, servingName: "bulk-a" });
    await api.instances.delete({ id: reused.id });
  }, 90_000);
});

describe("launch rules", () => {
  test("a model that does not fit is refused before anything is allocated, naming a remediation", async () => {
    const { api } = await compute.fundedUser();
    const error = await expectTrpcError(
      api.instances.launch({ ...launch, runtimeId: "vllm", hfRepo: "meta-llama/Llama-3.3-70B-Instruct", hfToken: undefined }),
      "BAD_REQUEST",
    );
    expect(error.message).toContain("Remediation");
    expect(await api.instances.list()).toEqual([]);
  });

  test("an image that is not a catalog image pinned by digest is refused", async () => {
    const { api } = await compute.fundedUser();
    const error = await expectTrpcError(api.instances.launch({ ...launch, image: "docker.io/evil/miner:latest" }), "BAD_REQUEST");
    expect(error.message).toContain("Only verified runtime images can launch");
  });

  test("a balance that cannot cover an hour at the rate is refused, saying how much to top up", async () => {
    const { api } = await compute.fundedUser(50);
    const error = await expectTrpcError(api.instances.launch(launch), "PRECONDITION_FAILED");
    expect(error.message).toContain("Top up at least 0.29 €");
  });

  test("the pricing snapshot is locked: a catalog change later does not touch the instance", async () => {
    const { api } = await compute.fundedUser();
    const launched = await api.instances.launch({ ...launch, servingName: "locked" });
    const { prices } = await import("../../db/schema");
    const { and, eq } = await import("drizzle-orm");
    await compute.db
      .update(prices)
      .set({ rateCentsPerGpuHour: 9999 })
      .where(and(eq(prices.gpuTypeId, "L4"), eq(prices.tier, "secure"), eq(prices.modelClass, "llm")));
    const running = await waitFor(
      () => api.instances.get({ id: launched.id }),
      (i) => i.state === "running",
      20_000,
      "running",
    );
    expect(running.rateCentsPerHour).toBe(79);
    expect(running.pricingSnapshot.rows[0]).toMatchObject({ gpuType: "L4", rateCentsPerGpuHour: 79 });
    await compute.db
      .update(prices)
      .set({ rateCentsPerGpuHour: 79 })
      .where(and(eq(prices.gpuTypeId, "L4"), eq(prices.tier, "secure"), eq(prices.modelClass, "llm")));
    await api.instances.delete({ id: launched.id });
  }, 60_000);
});

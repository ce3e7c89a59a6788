import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import { accountBalances, instanceRuns, instances, resourceSamples } from "../../db/schema";
import { stopInstancesAfterGrace } from "../../src/billing/grace-sweep";
import { postEntry } from "../../src/billing/ledger";
import { waitForExit } from "../../src/platform/embedded-postgres";
import { referenceLaunch, startCompute, waitFor } from "../support/compute";

const compute = await startCompute();
// Its reference runtime "boots" for a minute: long enough to pass a bootstrap deadline.
const slowCompute = await startCompute({ bootMs: 60_000 });
const launch = referenceLaunch;
const reconcileNow = (overrides: { bootstrapDeadlineSeconds?: number; heartbeatTimeoutSeconds?: number; orphanGraceSeconds?: number } = {}) =>
  compute.reconcileNow({ heartbeatTimeoutSeconds: 3, ...overrides });

async function runningInstance(api: Awaited<ReturnType<typeof compute.fundedUser>>["api"], servingName: string) {
  const launched = await api.instances.launch({ ...launch, servingName });
  return waitFor(
    () => api.instances.get({ id: launched.id }),
    (i) => i.state === "running",
    20_000,
    `${servingName} running`,
  );
}

describe("the reconciler", () => {
  test("a pod whose runtime never becomes healthy is released as non_bootstrap", async () => {
    const { api } = await slowCompute.fundedUser();
    const launched = await api.instances.launch({ ...launch, servingName: "never-healthy" });
    const pending = await waitFor(
      () => api.instances.get({ id: launched.id }),
      (i) => ["pulling_image", "downloading_model", "loading_model"].includes(i.progress?.phase ?? ""),
      20_000,
      "booting",
    );
    expect(pending.state).toBe("pending");
    expect(await slowCompute.reconcileNow({ bootstrapDeadlineSeconds: 900 })).toMatchObject({ nonBootstrap: [] });
    await Bun.sleep(1100);
    const report = await slowCompute.reconcileNow({ bootstrapDeadlineSeconds: 1 });
    expect(report.nonBootstrap).toEqual([launched.id]);
    const released = await api.instances.get({ id: launched.id });
    expect(released.state).toBe("non_bootstrap");
    expect(released.failureReason).toBe("The runtime did not become healthy within 1 s of placement.");
    await waitFor(
      () => slowCompute.provider.status({ podId: pending.runs[0]!.podId!, externalId: pending.runs[0]!.podId! }),
      (s) => s.state === "gone",
      20_000,
      "pod released",
    );
  }, 60_000);

  test("a running instance whose whole pod died fails after the heartbeat timeout", async () => {
    const { api } = await compute.fundedUser();
    const running = await runningInstance(api, "pod-dies");
    const pod = JSON.parse(readFileSync(join(compute.podsDir, running.runs[0]!.podId!, "pod.json"), "utf8"));
    process.kill(-pod.agentPid, "SIGKILL"); // the agent and the runtime: nothing reports any more
    await waitForExit(pod.agentPid, 5000);
    await Bun.sleep(3500);
    const report = await reconcileNow();
    expect(report.lost).toContain(running.id);
    const failed = await api.instances.get({ id: running.id });
    expect(failed.state).toBe("failed");
    expect(failed.failureReason).toStartWith("The pod stopped responding");
  }, 60_000);

  test("a live pod that only lost touch is left alone", async () => {
    const { api } = await compute.fundedUser();
    const running = await runningInstance(api, "out-of-touch");
    await compute.db.update(instanceRuns).set({ lastHeartbeatAt: sql`now() - interval '1 hour'` }).where(eq(instanceRuns.id, running.runs[0]!.id));
    const report = await reconcileNow();
    expect(report.lost).not.toContain(running.id);
    expect((await api.instances.get({ id: running.id })).state).toBe("running");
    await api.instances.delete({ id: running.id });
  }, 60_000);

  test("a pod no live run owns is stopped", async () => {
    const { api } = await compute.fundedUser();
    const running = await runningInstance(api, "orphaned");
    const podId = running.runs[0]!.podId!;
    // The database forgets the run (as after a crash between provisioning and recording it).
    await compute.db.update(instanceRuns).set({ endedAt: sql`now()` }).where(eq(instanceRuns.id, running.runs[0]!.id));
    const report = await reconcileNow({ orphanGraceSeconds: 0 });
    expect(report.orphansStopped).toContain(podId);
    expect(await compute.provider.status({ podId, externalId: podId })).toEqual({ state: "gone" });
  }, 60_000);
});

/** A pod whose processes were all killed, and its agent's token: the test speaks for it, with its own clock. */
async function silencedPod(target: typeof compute, podId: string) {
  const dir = join(target.podsDir, podId);
  const { agentPid } = JSON.parse(readFileSync(join(dir, "pod.json"), "utf8"));
  const { token, runId } = JSON.parse(readFileSync(join(dir, "agent.json"), "utf8"));
  process.kill(-agentPid, "SIGKILL");
  await waitForExit(agentPid, 5000);
  const report = (path: "heartbeat" | "samples", body: object) =>
    fetch(`${target.url}/agent/${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ runId, at: "9999-12-31T00:00:00Z", ...body }),
    });
  return { runId: runId as string, report };
}

async function databaseNow(target: typeof compute): Promise<number> {
  const [row] = (await target.db.execute(sql`select extract(epoch from now()) * 1000 as ms`)) as unknown as { ms: string }[];
  return Number(row!.ms);
}

const noReadings = {
  cpuPercent: null,
  memoryUsedBytes: null,
  memoryTotalBytes: null,
  diskUsedBytes: null,
  diskTotalBytes: null,
  gpuUtilPercent: null,
  vramUsedBytes: null,
  vramTotalBytes: null,
  gpuTemperatureC: null,
};

describe("a pod's clock", () => {
  test("a heartbeat dated 9999-12-31 is timed on receipt, and the dead pod still fails after the heartbeat timeout", async () => {
    const { api } = await compute.fundedUser();
    const running = await runningInstance(api, "clock-9999");
    const pod = await silencedPod(compute, running.runs[0]!.podId!);
    const before = await databaseNow(compute);
    expect((await pod.report("heartbeat", { workload: { state: "ready" } })).status).toBe(200);
    const beat = async () => (await compute.db.select().from(instanceRuns).where(eq(instanceRuns.id, pod.runId)))[0]!.lastHeartbeatAt!.getTime();
    const received = await waitFor(beat, (at) => at >= before, 5000, "the heartbeat written");
    expect(received).toBeLessThanOrEqual(await databaseNow(compute));

    await Bun.sleep(3500); // past the 3 s timeout, with nothing reporting
    expect((await reconcileNow()).lost).toContain(running.id);
    const failed = await api.instances.get({ id: running.id });
    expect(failed.state).toBe("failed");
    expect(failed.failureReason).toStartWith("The pod stopped responding");
  }, 60_000);

  test("resource samples and boot progress are timed on receipt too", async () => {
    const { api } = await slowCompute.fundedUser();
    const launched = await api.instances.launch({ ...launch, servingName: "clock-boot" });
    const booting = await waitFor(
      () => api.instances.get({ id: launched.id }),
      (i) => Boolean(i.runs[0]?.podId),
      20_000,
      "a pod",
    );
    const pod = await silencedPod(slowCompute, booting.runs[0]!.podId!);
    const before = await databaseNow(slowCompute);
    const starting = { state: "starting", phase: "loading_model", progress: 0.5, message: "reported with a clock in 9999" };
    expect((await pod.report("heartbeat", { workload: starting })).status).toBe(200);
    expect((await pod.report("samples", { ...noReadings, cpuPercent: 12 })).status).toBe(200);

    const progress = async () => (await slowCompute.db.select().from(instances).where(eq(instances.id, launched.id)))[0]!.progress;
    const shown = await waitFor(progress, (p) => p?.message === starting.message, 5000, "the progress written");
    const samples = () => slowCompute.db.select().from(resourceSamples).where(eq(resourceSamples.instanceId, launched.id));
    const [sample] = await waitFor(samples, (rows) => rows.some((r) => r.cpuPercent === 12), 5000, "the sample written");
    const after = await databaseNow(slowCompute);
    for (const at of [Date.parse(shown!.at), sample!.at.getTime()]) {
      expect(at).toBeGreaterThanOrEqual(before);
      expect(at).toBeLessThanOrEqual(after);
    }
    await api.instances.delete({ id: launched.id });
  }, 60_000);
});

describe("the grace window", () => {
  test("when it ends with a negative balance, running instances are stopped (not deleted), with the cause", async () => {
    const { user, api } = await compute.fundedUser(10_000);
    const running = await runningInstance(api, "grace-ends");
    expect((await api.billing.balance()).burnRateCentsPerHour).toBe(79);
    expect((await api.billing.balance()).runwaySeconds).toBe(Math.floor((10_000 / 79) * 3600));

    await postEntry(compute.db, { accountId: user.accountId, kind: "debit", amountCents: -10_500, reference: "debit:test:grace" });
    expect(await stopInstancesAfterGrace(compute.db, compute.jobs, 24)).toEqual([]); // grace just started
    await compute.db.update(accountBalances).set({ graceStartedAt: sql`now() - interval '25 hours'` }).where(eq(accountBalances.accountId, user.accountId));
    expect(await stopInstancesAfterGrace(compute.db, compute.jobs, 24)).toEqual([running.id]);
    expect(await stopInstancesAfterGrace(compute.db, compute.jobs, 24)).toEqual([]); // once

    const stopped = await waitFor(
      () => api.instances.get({ id: running.id }),
      (i) => i.state === "stopped",
      20_000,
      "stopped",
    );
    expect(stopped.events.find((e) => e.to === "stopping")!.cause).toBe("stopped by the platform: the 24 h grace window ended with a negative balance");
    expect((await api.instances.list()).map((i) => i.id)).toContain(running.id);
  }, 60_000);

  test("a top-up that ends grace in time keeps instances running", async () => {
    const { user, api } = await compute.fundedUser(10_000);
    const running = await runningInstance(api, "grace-saved");
    await postEntry(compute.db, { accountId: user.accountId, kind: "debit", amountCents: -10_500, reference: "debit:test:saved" });
    await compute.db.update(accountBalances).set({ graceStartedAt: sql`now() - interval '25 hours'` }).where(eq(accountBalances.accountId, user.accountId));
    await postEntry(compute.db, { accountId: user.accountId, kind: "topup", amountCents: 1_000, reference: "cs_saved" });
    expect(await stopInstancesAfterGrace(compute.db, compute.jobs, 24)).toEqual([]);
    expect((await api.instances.get({ id: running.id })).state).toBe("running");
    await api.instances.delete({ id: running.id });
  }, 60_000);
});

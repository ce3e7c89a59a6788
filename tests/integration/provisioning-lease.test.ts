import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import { instanceRuns } from "../../db/schema";
import { projectRoot } from "../../src/config";
import { newId } from "../../src/ids";
import { provisionRun } from "../../src/instances/provisioning";
import type { JobPayloads } from "../../src/jobs/names";
import { readPodRecord } from "../../src/providers/local/pod-files";
import type { Provider } from "../../src/providers/seam";
import { provision } from "../../workers/provision";
import { referenceLaunch, startCompute, waitFor } from "../support/compute";

const compute = await startCompute();
const leaseSeconds = compute.config.PROVISION_LEASE_SECONDS;
const local = compute.provider;
const deps = (providers: Provider[] = [local]) => ({
  db: compute.db,
  jobs: compute.jobs,
  providers,
  controlUrl: compute.url,
  hubEndpoint: compute.config.HF_ENDPOINT,
  maxAttempts: 3,
  leaseSeconds,
});
const reconcileNow = () => compute.reconcileNow({ provisionLeaseSeconds: leaseSeconds });

// This process's provisioning workers stay off (as if dead) until a test lets them run; reconcile runs by hand.
await compute.boss.offWork("instances.provision");
await compute.boss.offWork("instances.reconcile");
const provisioningWorkers = {
  on: () =>
    compute.boss.work<JobPayloads["instances.provision"]>("instances.provision", { pollingIntervalSeconds: 0.5 }, async ([job]) =>
      provision.handle(job!.data, { db: compute.db, config: compute.config, jobs: compute.jobs, providers: [local] }, job!),
    ),
  off: () => compute.boss.offWork("instances.provision"),
};

async function pendingRun(servingName: string) {
  const { api } = await compute.fundedUser();
  const launched = await api.instances.launch({ ...referenceLaunch, servingName });
  return { api, instanceId: launched.id, runId: (await api.instances.get({ id: launched.id })).runs[0]!.id };
}

const runRow = async (runId: string) => (await compute.db.select().from(instanceRuns).where(eq(instanceRuns.id, runId)))[0]!;
/** The pods the provider holds for a run, not yet stopped. */
const podsOfRun = async (runId: string) =>
  (await local.pods())
    .map((p) => readPodRecord(compute.podsDir, p.podId))
    .filter((r) => r?.runId === runId)
    .map((r) => r!.podId);
/** As if the claim's last renewal were a whole lease (and a second) ago. */
const lapseClaim = (runId: string) =>
  compute.db
    .update(instanceRuns)
    .set({ claimedAt: sql`now() - make_interval(secs => ${leaseSeconds + 1})` })
    .where(eq(instanceRuns.id, runId));

/** After a takeover: running on one pod, the run's own, the leftover gone, nothing left written down. */
async function expectOnePod(api: Awaited<ReturnType<typeof pendingRun>>["api"], instanceId: string, runId: string, leftover: string) {
  const running = await waitFor(
    () => api.instances.get({ id: instanceId }),
    (i) => i.state === "running",
    20_000,
    "running",
  );
  expect(running.runs).toHaveLength(1);
  const run = await runRow(runId);
  expect(run.podId).not.toBe(leftover);
  expect(run.provisioningPodId).toBeNull();
  expect(await local.status({ podId: leftover, externalId: leftover })).toEqual({ state: "gone" });
  expect(await podsOfRun(runId)).toEqual([run.podId!]);
}

describe("a provisioner that dies mid-provisioning", () => {
  test("killed -9 with its pod made: once its lease lapses the reconciler requeues the run; the leftover pod is stopped and the instance runs on one pod", async () => {
    const { api, instanceId, runId } = await pendingRun("killed-worker");
    const [{ name }] = (await compute.db.execute(sql`select current_database() as name`)) as unknown as [{ name: string }];
    const databaseUrl = `${process.env.QDZ_TEST_PG_BASE_URL}/${name}`;
    const worker = Bun.spawn(
      [process.execPath, join(projectRoot, "tests/support/frozen-worker.ts"), databaseUrl, compute.podsDir, compute.url, compute.config.HF_ENDPOINT],
      {
        stdout: "pipe",
        stderr: "inherit",
      },
    );
    let leftover = "";
    const decoder = new TextDecoder();
    let output = "";
    for await (const chunk of worker.stdout) {
      output += decoder.decode(chunk);
      leftover = /made (\S+)/.exec(output)?.[1] ?? "";
      if (leftover) break;
    }
    worker.kill("SIGKILL");
    await worker.exited;
    expect(leftover).toStartWith("pod_");
    // What it left: its claim, the pod it wrote down, that pod alive, and its job `active` at pg-boss until expiry.
    expect((await runRow(runId)).provisioningPodId).toBe(leftover);
    expect(await local.status({ podId: leftover, externalId: leftover })).toMatchObject({ state: "running" });
    expect((await reconcileNow()).requeued).not.toContain(instanceId); // its lease has not lapsed yet

    await lapseClaim(runId);
    expect((await reconcileNow()).requeued).toContain(instanceId);
    await provisioningWorkers.on();
    try {
      await expectOnePod(api, instanceId, runId, leftover);
    } finally {
      await provisioningWorkers.off();
    }
    await api.instances.delete({ id: instanceId });
  }, 30_000);

  test("claimed past the lease with a pod written down and live, no job: the reconciler requeues it and the new provisioner stops that pod first", async () => {
    const { api, instanceId, runId } = await pendingRun("dead-worker");
    // The dead worker's job: taken and never finished.
    expect((await compute.boss.fetch<JobPayloads["instances.provision"]>("instances.provision", { batchSize: 10 })).map((j) => j.data.runId)).toContain(runId);
    const leftover = newId("pod");
    const offer = (await local.offers()).find((o) => o.id === "local/L4/secure")!;
    await local.provision(
      {
        podId: leftover,
        instanceId,
        runId,
        image: "dead-worker",
        command: null,
        env: {},
        ports: [{ port: 8080, name: "http", protocol: "http" }],
        healthPath: null,
        gpuType: "L4",
        gpuCount: 1,
        sshAuthorizedKeys: [],
        agent: { controlUrl: compute.url, token: "qdza_dead_worker" },
      },
      offer,
    );
    await compute.db.update(instanceRuns).set({ claimedAt: sql`now() - interval '1 hour'`, provisioningPodId: leftover }).where(eq(instanceRuns.id, runId));

    expect((await reconcileNow()).requeued).toContain(instanceId);
    await provisioningWorkers.on();
    try {
      await expectOnePod(api, instanceId, runId, leftover);
    } finally {
      await provisioningWorkers.off();
    }
    await api.instances.delete({ id: instanceId });
  }, 30_000);
});

describe("a provisioner whose lease was taken over", () => {
  test("cannot record the pod it makes late: it stops it, and the run keeps its successor's pod", async () => {
    const { api, instanceId, runId } = await pendingRun("zombie");
    let resume!: () => void;
    const paused = new Promise<void>((resolve) => (resume = resolve));
    let asked!: () => void;
    const atProvider = new Promise<void>((resolve) => (asked = resolve));
    const made: string[] = [];
    // Stalls (a long GC pause, a partition) after it has claimed and written its pod down, before making it.
    const stalling: Provider = {
      id: local.id,
      offers: () => local.offers(),
      stop: (pod) => local.stop(pod),
      status: (pod) => local.status(pod),
      pods: () => local.pods(),
      async provision(spec, offer) {
        asked();
        await paused;
        made.push(spec.podId);
        return local.provision(spec, offer);
      },
    };
    const zombie = provisionRun(deps([stalling]), instanceId, runId);
    await atProvider;
    const zombiePod = (await runRow(runId)).provisioningPodId!;
    expect(zombiePod).toStartWith("pod_");

    await lapseClaim(runId);
    expect(await provisionRun(deps(), instanceId, runId)).toBe("provisioned");
    resume();
    expect(await zombie).toBe("skipped");
    expect(made).toEqual([zombiePod]); // it did make its pod, after the successor's
    await expectOnePod(api, instanceId, runId, zombiePod);
    await api.instances.delete({ id: instanceId });
  }, 30_000);

  test("a live lease is never taken over, and the reconciler leaves its run alone", async () => {
    const { api, instanceId, runId } = await pendingRun("live-lease");
    await compute.db.update(instanceRuns).set({ claimedAt: sql`now()` }).where(eq(instanceRuns.id, runId));
    expect(await provisionRun(deps(), instanceId, runId)).toBe("skipped");
    expect((await reconcileNow()).requeued).not.toContain(instanceId);
    expect(await podsOfRun(runId)).toEqual([]);
    await api.instances.delete({ id: instanceId });
  }, 30_000);
});

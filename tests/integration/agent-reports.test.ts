import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import { schema } from "../../db/client";
import { instanceRuns, resourceSamples } from "../../db/schema";
import { createApp } from "../../server/app";
import { newSecret, sha256Hex } from "../../src/auth/secrets";
import { newId } from "../../src/ids";
import { HeartbeatBatcher } from "../../src/instances/heartbeats";
import { endRun } from "../../src/instances/runs";
import type { JobQueue } from "../../src/jobs/queue";
import { freshDatabase } from "../support/db";
import { insertInstanceRow, newUser, testConfig } from "../support/factories";

/**
 * The agents' reports at the scale of thousands of pods: a report costs no query once its token is known,
 * tokens first seen together are read together, the flush tells the api which runs have ended (their pods
 * are answered 410 from then on, whichever process ended them), and flushes never run over each other.
 */
const database = await freshDatabase();
// The app's own view of the database, counting the agent-token reads and the sample inserts it makes.
let tokenReads = 0;
let sampleInserts = 0;
const db = drizzle(database.sql, {
  schema,
  logger: {
    logQuery: (query) => {
      if (query.includes("agent_token_hash")) tokenReads++;
      if (query.includes('insert into "resource_samples"')) sampleInserts++;
    },
  },
});
const jobs: JobQueue = { send: async () => null };
const batcher = new HeartbeatBatcher(db);
const app = createApp({ db, config: testConfig, jobs, heartbeats: batcher });

/** A running instance whose live run has a pod, as placement and the agent leave it, and its agent's token. */
async function runningPod() {
  const user = await newUser(database.db);
  const runId = newId("run");
  const token = newSecret("qdza_");
  const instanceId = await insertInstanceRow(database.db, { accountId: user.accountId, currentRunId: runId });
  await database.db.insert(instanceRuns).values({ id: runId, instanceId, number: 1, agentTokenHash: sha256Hex(token), runningAt: new Date() });
  const report = (path: "heartbeat" | "samples", body: object) =>
    app.handle(
      new Request(`http://localhost/agent/${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ runId, at: new Date().toISOString(), ...body }),
      }),
    );
  return { runId, instanceId, beat: () => report("heartbeat", { workload: { state: "ready" } }), report };
}

describe("agent tokens", () => {
  test("a pod's token is read once: later reports cost no query", async () => {
    const pod = await runningPod();
    tokenReads = 0;
    for (let i = 0; i < 20; i++) expect((await pod.beat()).status).toBe(200);
    expect(tokenReads).toBe(1);
  });

  test("tokens first seen together are read in one query", async () => {
    const pods = await Promise.all(Array.from({ length: 25 }, runningPod));
    tokenReads = 0;
    const answers = await Promise.all(pods.map((pod) => pod.beat()));
    expect(answers.map((a) => a.status)).toEqual(pods.map(() => 200));
    expect(tokenReads).toBe(1);
  });

  test("an unknown token is refused, and never kept", async () => {
    const pod = await runningPod();
    const stranger = (token: string) =>
      app.handle(
        new Request("http://localhost/agent/heartbeat", {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ runId: pod.runId, at: new Date().toISOString(), workload: { state: "ready" } }),
        }),
      );
    tokenReads = 0;
    expect((await stranger(newSecret("qdza_"))).status).toBe(401);
    expect((await stranger(newSecret("qdza_"))).status).toBe(401);
    expect(tokenReads).toBe(2);
  });
});

describe("a run ended by someone else", () => {
  test("its pod is told 410 from the flush after its next beat, and that beat moves nothing", async () => {
    const pod = await runningPod();
    expect((await pod.beat()).status).toBe(200);
    await batcher.flush();
    // Ended outside this api (another replica's stop, the reconciler): nothing tells this process directly.
    await endRun(database.db, jobs, { runId: pod.runId, reason: "stopped", detail: "stopped by a test", transition: { to: "stopping", cause: "test" } });
    const [ended] = await database.db.select().from(instanceRuns).where(eq(instanceRuns.id, pod.runId));

    expect((await pod.beat()).status).toBe(200);
    await batcher.flush();
    expect((await pod.beat()).status).toBe(410);
    expect(
      (
        await pod.report("samples", {
          cpuPercent: 1,
          memoryUsedBytes: null,
          memoryTotalBytes: null,
          diskUsedBytes: null,
          diskTotalBytes: null,
          gpuUtilPercent: null,
          vramUsedBytes: null,
          vramTotalBytes: null,
          gpuTemperatureC: null,
        })
      ).status,
    ).toBe(410);
    const [after] = await database.db.select().from(instanceRuns).where(eq(instanceRuns.id, pod.runId));
    expect(after!.lastHeartbeatAt).toEqual(ended!.lastHeartbeatAt);
  });
});

describe("the flush", () => {
  test("flushes asked for at once run one after the other, each writing what it took", async () => {
    const pods = await Promise.all(Array.from({ length: 30 }, runningPod));
    for (const pod of pods) await pod.beat();
    const first = batcher.flush();
    for (const pod of pods) await pod.beat();
    const second = batcher.flush();
    expect(await Promise.all([first, second])).toEqual([
      { beats: 30, samples: 0 },
      { beats: 30, samples: 0 },
    ]);
  });

  test("many samples go in one statement, each timed on receipt", async () => {
    const pods = await Promise.all(Array.from({ length: 40 }, runningPod));
    const readings = {
      memoryUsedBytes: 2 ** 33,
      memoryTotalBytes: 2 ** 35,
      diskUsedBytes: 2 ** 34,
      diskTotalBytes: 2 ** 36,
      gpuUtilPercent: 50.5,
      vramUsedBytes: 2 ** 34,
      vramTotalBytes: 2 ** 35,
      gpuTemperatureC: 61,
    };
    const [clock] = await database.sql<{ ms: number }[]>`select (extract(epoch from now()) * 1000)::float8 as ms`;
    sampleInserts = 0;
    for (const [i, pod] of pods.entries()) expect((await pod.report("samples", { cpuPercent: i, ...readings })).status).toBe(200);
    expect(await batcher.flush()).toMatchObject({ samples: 40 });
    expect(sampleInserts).toBe(1);
    for (const [i, pod] of pods.entries()) {
      const [row] = await database.db.select().from(resourceSamples).where(eq(resourceSamples.instanceId, pod.instanceId));
      expect(row).toMatchObject({ cpuPercent: i, ...readings });
      expect(row!.at.getTime()).toBeGreaterThanOrEqual(Math.floor(clock!.ms));
      expect(row!.at.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    }
  });
});

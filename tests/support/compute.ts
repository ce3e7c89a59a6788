/**
 * The compute side of the platform in one test process: a real api listening
 * on a port (the pods' agents report to it), real pg-boss workers, the local
 * provider running real pods (agent + reference runtime processes), and the
 * fixture hub for model metadata.
 */
import { afterAll } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createApp } from "../../server/app";
import { postEntry } from "../../src/billing/ledger";
import { loadConfig, projectRoot } from "../../src/config";
import { HeartbeatBatcher } from "../../src/instances/heartbeats";
import { type ReconcileDeps, reconcile } from "../../src/instances/reconcile";
import { createQueue, jobQueue } from "../../src/jobs/queue";
import { parseInventory } from "../../src/providers/local/inventory";
import { findRuntimeBinary, LocalProvider } from "../../src/providers/local/local-provider";
import { registerWorkers } from "../../workers/registry";
import { freePort } from "./cluster";
import { freshDatabase } from "./db";
import { newUser, trpc } from "./factories";
import { startFixtureHub } from "./fixture-hub";

export async function startCompute(options: { bootMs?: number; hubFilesDir?: string; realRuntimes?: boolean } = {}) {
  // Closed last, by this file's own afterAll: the workers and the heartbeat flush need it until then.
  const database = await freshDatabase({ closeAfterAll: false });
  const hub = await startFixtureHub({ filesDir: options.hubFilesDir });
  const port = await freePort();
  // Inside this test run's own folder, which a concurrent run's clean-up of abandoned runs leaves alone.
  const runDir = join(projectRoot, ".data", "test", `run-${process.pid}`);
  mkdirSync(runDir, { recursive: true });
  const podsDir = mkdtempSync(join(runDir, "pods-"));
  const config = loadConfig({
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    HF_ENDPOINT: hub.url,
    QDZ_DATA_DIR: ".data/test",
    LOCAL_REFERENCE_BOOT_MS: String(options.bootMs ?? 300),
    HEARTBEAT_TIMEOUT_SECONDS: "5",
  });
  const boss = createQueue(database.url, { spies: true });
  await boss.start();
  const jobs = jobQueue(boss);
  const heartbeats = new HeartbeatBatcher(database.db).start(200);
  const catalogGpus = [
    { id: "L4", vramGib: 24, cost: { secure: 48, community: 30 } },
    { id: "L40S", vramGib: 48, cost: { secure: 95, community: 62 } },
    { id: "A100-80G", vramGib: 80, cost: { secure: 150, community: 95 } },
  ];
  const provider = new LocalProvider({
    podsDir,
    inventory: parseInventory("L4:4,L40S:1,A100-80G:1", catalogGpus),
    referenceBootMs: options.bootMs ?? 300,
    // Real runtime binaries only when a test asks: the others stay fast and deterministic on the reference runtime.
    findBinary: options.realRuntimes ? findRuntimeBinary : () => null,
  });
  const app = createApp({ db: database.db, config, jobs, heartbeats, providers: [provider] }).listen({ port, hostname: "127.0.0.1" });
  await registerWorkers(boss, { db: database.db, config, jobs, providers: [provider] });

  afterAll(async () => {
    // Every step runs even if one fails: a pod left running would outlive the test run.
    const steps = [
      async () => {
        for (const pod of await provider.pods()) await provider.stop(pod);
      },
      () => boss.stop({ graceful: false }),
      () => heartbeats.stop(),
      async () => app.server?.stop(true),
      () => hub.stop(),
      () => database.close(),
    ];
    for (const step of steps) await step().catch((error) => console.error("compute teardown:", error));
    rmSync(podsDir, { recursive: true, force: true });
  }, 60_000);

  /** A user with money on their balance, and a tRPC caller that enqueues real jobs. */
  async function fundedUser(cents = 10_000) {
    const user = await newUser(database.db);
    await postEntry(database.db, { accountId: user.accountId, kind: "topup", amountCents: cents, reference: `cs_test_${user.userId}` });
    return { user, api: await trpc(database.db, user.sessionToken, { jobs, providers: [provider] }) };
  }

  /** One reconcile pass now, as the workers' job runs it, with a test's short deadlines. */
  const reconcileNow = (settings: Partial<Omit<ReconcileDeps, "db" | "jobs">> = {}) =>
    reconcile({
      db: database.db,
      jobs,
      providers: [provider],
      bootstrapDeadlineSeconds: 900,
      heartbeatTimeoutSeconds: 30,
      provisionLeaseSeconds: 30,
      ...settings,
    });

  return { db: database.db, config, provider, boss, jobs, heartbeats, podsDir, url: `http://127.0.0.1:${port}`, fundedUser, reconcileNow };
}

/** A launch of the small chat model on the reference runtime: ready in well under a second. */
export const referenceLaunch = {
  runtimeId: "reference",
  hfRepo: "Qwen/Qwen2.5-0.5B-Instruct",
  gpuPreferences: ["L4"],
  gpuCount: 1,
  tier: "secure" as const,
  allowedRegions: [] as string[],
  placementMode: "smart" as const,
  contextLength: 4096,
};

/** Polls `read` until `done` holds, failing with the last value after `timeoutMs`. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last, null, 2).slice(0, 2000)}`);
    await Bun.sleep(100);
    last = await read();
  }
  return last;
}

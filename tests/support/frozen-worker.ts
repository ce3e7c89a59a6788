/**
 * A provisioning worker in its own process, for a test to kill -9 mid-provisioning: it takes
 * `instances.provision` jobs from the queue like the real workers, with the real job handler, but its
 * local provider freezes once it has made a pod, and it prints `made <pod id>` then.
 *
 * Usage: bun tests/support/frozen-worker.ts <database url> <pods dir> <api url> <hub url>
 */
import { PgBoss } from "pg-boss";
import { connect } from "../../db/client";
import { loadConfig } from "../../src/config";
import type { JobPayloads } from "../../src/jobs/names";
import { jobQueue } from "../../src/jobs/queue";
import { parseInventory } from "../../src/providers/local/inventory";
import { LocalProvider } from "../../src/providers/local/local-provider";
import type { Provider } from "../../src/providers/seam";
import { provision } from "../../workers/provision";

const [databaseUrl, podsDir, apiUrl, hubUrl] = process.argv.slice(2) as [string, string, string, string];
const { db } = connect(databaseUrl, { max: 2 });
const config = loadConfig({ PORT: new URL(apiUrl).port, HF_ENDPOINT: hubUrl, QDZ_DATA_DIR: ".data/test" });
// The same inventory as tests/support/compute.ts, so the offers and the pods' GPUs agree with its provider.
const catalogGpus = [
  { id: "L4", vramGib: 24, cost: { secure: 48, community: 30 } },
  { id: "L40S", vramGib: 48, cost: { secure: 95, community: 62 } },
  { id: "A100-80G", vramGib: 80, cost: { secure: 150, community: 95 } },
];
const local = new LocalProvider({ podsDir, inventory: parseInventory("L4:4,L40S:1,A100-80G:1", catalogGpus), referenceBootMs: 300, findBinary: () => null });
const freezing: Provider = {
  id: local.id,
  offers: () => local.offers(),
  stop: (podId) => local.stop(podId),
  status: (podId) => local.status(podId),
  pods: () => local.pods(),
  async provision(spec, offer) {
    const pod = await local.provision(spec, offer);
    console.log(`made ${pod.podId}`);
    return new Promise(() => {}); // frozen here, until killed
  },
};

const boss = new PgBoss({ connectionString: databaseUrl, max: 2, supervise: false, schedule: false });
await boss.start();
await boss.work<JobPayloads["instances.provision"]>("instances.provision", { pollingIntervalSeconds: 0.5 }, async ([job]) =>
  provision.handle(job!.data, { db, config, jobs: jobQueue(boss), providers: [freezing] }, job!),
);
console.log("ready");

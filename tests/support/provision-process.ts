/**
 * A worker replica's local provider in its own process, provisioning one 1×L4 template pod from the pods
 * directory every replica on this machine shares; for tests that race several at once.
 *
 * Usage: bun tests/support/provision-process.ts <database url> <pods dir> <pod id>
 * Prints `ready` once connected, provisions when a line arrives on stdin (so racers start together), then
 * prints `provisioned <pod id>` or `refused <message>`.
 */
import { sql } from "drizzle-orm";
import { connect } from "../../db/client";
import { parseInventory } from "../../src/providers/local/inventory";
import { LocalProvider } from "../../src/providers/local/local-provider";
import { machineLock } from "../../src/providers/local/machine-lock";
import { ProvisionError } from "../../src/providers/seam";

const [url, podsDir, podId] = process.argv.slice(2) as [string, string, string];
const database = connect(url, { max: 1 });
const provider = new LocalProvider({
  podsDir,
  inventory: parseInventory("L4:1", [{ id: "L4", vramGib: 24, cost: { secure: 48, community: 30 } }]),
  referenceBootMs: 0,
  exclusive: machineLock(database.db, podsDir),
});
const [offer] = await provider.offers({ gpuTypes: ["L4"], gpuCount: 1, regions: [], tier: "secure" });
await database.db.execute(sql`select 1`);
console.log("ready");
for await (const _line of console) break;
try {
  await provider.provision(
    {
      podId,
      instanceId: `inst_${podId}`,
      runId: `run_${podId}`,
      image: "busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000",
      command: null,
      env: {},
      ports: [{ name: "http", port: 8080, protocol: "http" }],
      healthPath: null,
      gpuType: "L4",
      gpuCount: 1,
      sshAuthorizedKeys: [],
      agent: { controlUrl: "http://127.0.0.1:9", token: "qdza_test" },
    },
    offer!,
  );
  console.log(`provisioned ${podId}`);
} catch (error) {
  if (!(error instanceof ProvisionError)) throw error;
  console.log(`refused ${error.message}`);
}
await database.close();

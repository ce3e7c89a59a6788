/**
 * Reclaim end to end on the local provider (issue 15): the platform as `npm start` runs it on a test database,
 * real community pods (agent + reference runtime) launched with `qdz`, and the operator's
 * `bun server/ops.ts reclaim <instance>` taking a pod back the way a cloud reclaims spot capacity. Nothing
 * tells the platform: the pod's heartbeats stop, the reconciler asks the provider, and the instance is
 * re-placed (smart) or stopped (pinned). Billing ends at the last heartbeat before the reclaim, to the cent.
 */
import { describe, expect, test } from "bun:test";
import { createClient } from "../../src/cli/client";
import { CredentialStore } from "../../src/cli/credentials";
import { randomBase62 } from "../../src/ids";
import { parsed } from "../support/cli-results";
import { freshDatabase } from "../support/db";
import { type CliRunner, platformForFile, waitUntil } from "../support/platform";

const PASSWORD = "correct horse battery staple";
const database = await freshDatabase();
const platform = platformForFile({
  env: {
    DATABASE_URL: database.url,
    DATABASE_OWNER_URL: database.ownerUrl,
    BILLING_TICK_SECONDS: "5",
    // A reclaimed pod falls silent; the reconciler (every 10 s) asks its provider once it has been silent this long.
    HEARTBEAT_TIMEOUT_SECONDS: "3",
  },
});

/** A new person at a new terminal, signed up and topped up with €10 on the development gateway. */
async function customer(): Promise<CliRunner> {
  const cli = platform.cli();
  const email = `reclaim-${randomBase62(8).toLowerCase()}@example.com`;
  parsed(await cli(["signup", "--email", email, "--password-stdin", "--json"], { stdin: `${PASSWORD}\n` }));
  const token = new CredentialStore(cli.configDir).get(platform.url)!.token;
  const { id: checkout } = parsed(await cli(["topup", "10", "--json"]));
  await createClient(platform.url, token).billing.completeDevCheckout.mutate({ id: checkout, outcome: "pay" });
  return cli;
}

async function reclaim(instanceId: string): Promise<string> {
  const child = Bun.spawn([process.execPath, "server/ops.ts", "reclaim", instanceId], {
    env: { ...process.env, DATABASE_URL: database.url, QDZ_DATA_DIR: platform.dataDir },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  return stdout;
}

const launch = (extra: string[]) => [
  "instances",
  "launch",
  "--runtime",
  "reference",
  "--model",
  "Qwen/Qwen2.5-0.5B-Instruct",
  "--gpu",
  "H100-80G",
  "--tier",
  "community",
  ...extra,
  "--wait",
  "--json",
];

type Json = any;
const show = async (cli: CliRunner, id: string): Promise<Json> => parsed(await cli(["instances", "show", id, "--json"]));
const metered = async (cli: CliRunner, id: string): Promise<Json> => parsed(await cli(["instances", "show", id, "--metered", "--json"]));

/** The first run's billing after the reclaim: it stopped at the last heartbeat, was charged exactly, and (early) refunded. */
async function expectBilledToReclaim(cli: CliRunner, id: string, runId: string, reclaimedAt: Date) {
  const runOf = async () => (await metered(cli, id)).runs.find((run: Json) => run.run_id === runId);
  await waitUntil("the reclaimed run is settled", async () => (await runOf()).settled, 30_000);
  const first = await runOf();
  const detail = (await show(cli, id)).runs.find((run: Json) => run.id === runId);
  const ran = (reclaimedAt.getTime() - Date.parse(detail.runningAt)) / 1000;
  // Billed to its last heartbeat (a beat a second), never past the reclaim.
  expect(first.seconds_billed).toBeLessThanOrEqual(Math.ceil(ran));
  expect(first.seconds_billed).toBeGreaterThanOrEqual(Math.floor(ran) - 3);
  expect(first.debited_cents).toBe(Math.floor((first.seconds_billed * first.rate_cents_per_hour) / 3600));
  // Reclaimed within a minute of running: refunded in full, as an early failure is.
  expect(first.refunded_cents).toBe(first.debited_cents);
  expect(detail.endedBecause).toBe("reclaimed");
}

describe("a community pod reclaimed by its provider", () => {
  test("smart: the run ends as reclaimed, billed to its last heartbeat, and the instance is re-placed on a new run that serves again", async () => {
    const cli = await customer();
    const instance = parsed(await cli(launch(["--name", "spot-smart"])));
    expect(instance.state).toBe("running");
    const id: string = instance.id;
    const firstRun: string = instance.runs[0].id;
    await waitUntil("the run is billed", async () => (await metered(cli, id)).seconds_billed >= 5, 30_000);

    expect(await reclaim(id)).toContain(`of instance ${id} reclaimed at `);
    const reclaimedAt = new Date();

    await waitUntil(
      "the instance runs again on a new run",
      async () => {
        const now = await show(cli, id);
        return now.state === "running" && now.runs.length === 2;
      },
      90_000,
    );
    const after = await show(cli, id);
    const causes = after.events.map((event: Json) => `${event.from}→${event.to}: ${event.cause}`);
    expect(causes).toContainEqual(expect.stringMatching(/^running→pending: Re-placing: its community pod was reclaimed by local \(/));
    await expectBilledToReclaim(cli, id, firstRun, reclaimedAt);
    // The new run bills on its own, from its own running_at.
    const second = (await metered(cli, id)).runs.find((run: Json) => run.run_id !== firstRun);
    expect(second.ended_at).toBeNull();
    parsed(await cli(["instances", "stop", id, "--wait", "--json"]));
  }, 180_000);

  test("pinned: the run ends as reclaimed and the instance is stopped with the reason, not moved", async () => {
    const cli = await customer();
    const instance = parsed(await cli(launch(["--name", "spot-pinned", "--pinned"])));
    const id: string = instance.id;
    const firstRun: string = instance.runs[0].id;
    await waitUntil("the run is billed", async () => (await metered(cli, id)).seconds_billed >= 5, 30_000);

    await reclaim(id);
    const reclaimedAt = new Date();
    await waitUntil("the instance is stopped", async () => (await show(cli, id)).state === "stopped", 60_000);
    const after = await show(cli, id);
    expect(after.runs).toHaveLength(1);
    expect(after.events.at(-1)).toMatchObject({ from: "running", to: "stopped" });
    expect(after.events.at(-1).cause).toMatch(/^Stopped: its community pod was reclaimed by local .* Pinned instances stay on their provider/);
    await expectBilledToReclaim(cli, id, firstRun, reclaimedAt);
  }, 180_000);
});

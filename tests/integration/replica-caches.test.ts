import { afterAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { connect } from "../../db/client";
import { instanceRuns } from "../../db/schema";
import { revokeApiKey } from "../../src/api-keys/keys";
import { newSecret, sha256Hex } from "../../src/auth/secrets";
import { attachFirewall } from "../../src/firewall/attach";
import { createFirewall } from "../../src/firewall/create";
import { FirewallLookups } from "../../src/firewall/lookup";
import { updateFirewall } from "../../src/firewall/update";
import { newId } from "../../src/ids";
import { AgentDirectory } from "../../src/instances/agent-directory";
import { endRun } from "../../src/instances/runs";
import { CacheBus } from "../../src/platform/cache-bus";
import { ProxyCache } from "../../src/proxy/cache";
import { SharedRateLimiter } from "../../src/proxy/rate-limit";
import { leaseFromDatabase } from "../../src/proxy/rate-limit-buckets";
import { freshDatabase } from "../support/db";
import { contextOf, insertInstanceRow, newApiKey, newUser } from "../support/factories";

/**
 * What several api replicas on one database must agree on, with each "replica" here a connection of its
 * own, its own LISTEN and its own caches (tests/e2e/replicas.test.ts runs real processes): a change made
 * through one replica reaches every other replica's cache within a second, and the /v1 rate limit holds
 * for the fleet, not per replica.
 */
const database = await freshDatabase();

function replica() {
  const handle = connect(database.url, { max: 4 });
  const bus = new CacheBus();
  const proxy = new ProxyCache(handle.db, { ttlMs: 600_000 });
  const firewalls = new FirewallLookups({ ttlMs: 600_000 });
  const agents = new AgentDirectory(handle.db, { ttlMs: 600_000 });
  for (const cache of [proxy, firewalls, agents]) bus.subscribe(cache);
  return { ...handle, bus, proxy, firewalls, agents };
}
const replicas = [replica(), replica(), replica()];
await Promise.all(replicas.map((r) => r.bus.listen(r.sql)));
afterAll(async () => {
  for (const r of replicas) {
    await r.bus.close();
    await r.close();
  }
});

/** How long each change took to reach the other replicas, for the log line after the file. */
const reached: Record<string, number[]> = {};
afterAll(() => {
  const summary = Object.entries(reached).map(([what, ms]) => `${what} ≤ ${Math.max(...ms).toFixed(0)} ms`);
  console.log(`invalidation across replicas (polled every 2 ms): ${summary.join(", ")}`);
});

/** Polls until `seen()` holds, failing after a second: the bound every replica must meet. */
async function timeUntil(what: string, seen: () => Promise<boolean>): Promise<void> {
  const started = performance.now();
  while (!(await seen())) {
    if (performance.now() - started > 1000) throw new Error(`${what}: not seen within a second`);
    await Bun.sleep(2);
  }
  (reached[what] ??= []).push(performance.now() - started);
}

describe("a change through one replica reaches every other within a second", () => {
  test("a revoked key is refused by every replica that had it cached", async () => {
    const user = await newUser(database.db);
    const { key, secret } = await newApiKey(database.db, user);
    for (const r of replicas) expect((await r.proxy.principal(secret))?.keyId).toBe(key.id);
    await revokeApiKey(await contextOf(replicas[0]!.db, user), key.id);
    for (const r of replicas.slice(1)) {
      await timeUntil("key revoked", async () => (await r.proxy.principal(secret)) === null);
    }
  });

  test("an edited or newly attached firewall screens the next prompt on every replica", async () => {
    const user = await newUser(database.db);
    const instanceId = await insertInstanceRow(database.db, { accountId: user.accountId });
    const ctx = await contextOf(replicas[0]!.db, user);
    for (const r of replicas) expect(await r.firewalls.forInstance(r.db, user.accountId, instanceId)).toBeNull();

    const firewall = await createFirewall(ctx, { name: "strict", rules: [{ id: "no-injection", kind: "prompt_injection", action: "block" }] });
    await attachFirewall(ctx, { instanceId, firewallId: firewall.id });
    for (const r of replicas.slice(1)) {
      await timeUntil("firewall attached", async () => (await r.firewalls.forInstance(r.db, user.accountId, instanceId))?.id === firewall.id);
    }
    await updateFirewall(ctx, { id: firewall.id, rules: [] });
    for (const r of replicas.slice(1)) {
      await timeUntil("firewall edited", async () => (await r.firewalls.forInstance(r.db, user.accountId, instanceId))?.rules.length === 0);
    }
  });

  test("a stopped instance's serving name stops routing on every replica", async () => {
    const user = await newUser(database.db);
    const instanceId = await insertInstanceRow(database.db, { accountId: user.accountId, state: "running", servingName: "replicated" });
    const stateOn = async (r: (typeof replicas)[number]) => {
      const route = await r.proxy.route(user.accountId, "replicated");
      return route.kind === "instance" ? route.state : null;
    };
    for (const r of replicas) expect(await stateOn(r)).toBe("running");
    await replicas[0]!.sql`update instances set state = 'stopped' where id = ${instanceId}`;
    for (const r of replicas.slice(1)) await timeUntil("instance stopped", async () => (await stateOn(r)) === "stopped");
  });

  test("a run ended by one replica is over for the pod's agent on every other", async () => {
    const user = await newUser(database.db);
    const runId = newId("run");
    const token = newSecret("qdza_");
    const instanceId = await insertInstanceRow(database.db, { accountId: user.accountId, currentRunId: runId, state: "running" });
    await database.db.insert(instanceRuns).values({ id: runId, instanceId, number: 1, agentTokenHash: sha256Hex(token), runningAt: new Date() });
    for (const r of replicas) expect((await r.agents.resolve(token))?.ended).toBe(false);
    const jobs = { send: async () => null };
    await endRun(replicas[0]!.db, jobs, { runId, reason: "stopped", detail: "stopped through replica 1", transition: { to: "stopping", cause: "test" } });
    for (const r of replicas.slice(1)) await timeUntil("run ended", async () => (await r.agents.resolve(token))?.ended === true);
    const [run] = await database.db.select({ endedAt: instanceRuns.endedAt }).from(instanceRuns).where(eq(instanceRuns.id, runId));
    expect(run?.endedAt).not.toBeNull();
  });
});

describe("the /v1 rate limit across replicas", () => {
  test("four replicas hammered at once allow the configured rate, within 10 %, and refuse the rest", async () => {
    const perMinute = 600;
    const fleet = Array.from({ length: 4 }, (_, i) => new SharedRateLimiter(perMinute, leaseFromDatabase(replicas[i % replicas.length]!.db)));
    const key = `key_${newId("run")}`;
    const seconds = 6;
    const started = performance.now();
    let allowed = 0;
    let refused = 0;
    // Each replica sends as fast as it is answered: far over the limit, as a runaway client would.
    await Promise.all(
      fleet.map(async (limiter) => {
        while (performance.now() - started < seconds * 1000) {
          const state = await Promise.all(Array.from({ length: 8 }, () => limiter.take(key)));
          for (const s of state) s.allowed ? allowed++ : refused++;
          await Bun.sleep(1);
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    // A full bucket's burst, then the refill for the time it ran.
    const expected = perMinute + (perMinute * elapsed) / 60;
    console.log(
      `rate limit across 4 replicas: ${allowed} allowed of ${expected.toFixed(0)} expected (${((allowed / expected - 1) * 100).toFixed(1)} %), ${refused} refused`,
    );
    expect(allowed).toBeLessThanOrEqual(Math.ceil(expected * 1.1));
    expect(allowed).toBeGreaterThanOrEqual(Math.floor(expected * 0.9));
    expect(refused).toBeGreaterThan(allowed);
  });

  test("a refused replica does not ask the database again until a token is due", async () => {
    let leases = 0;
    const lease = leaseFromDatabase(replicas[0]!.db);
    const limiter = new SharedRateLimiter(60, async (...args) => {
      leases++;
      return lease(...args);
    });
    const key = `key_${newId("run")}`;
    for (let i = 0; i < 60; i++) expect((await limiter.take(key)).allowed).toBe(true);
    const before = leases;
    const refusals = await Promise.all(Array.from({ length: 200 }, () => limiter.take(key)));
    expect(refusals.every((state) => !state.allowed && state.retryAfterMs > 0 && state.retryAfterMs <= 1000)).toBe(true);
    // One lease found the bucket empty; the other 199 refusals were answered from memory.
    expect(leases - before).toBe(1);
  });
});

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { and, asc, eq, sql } from "drizzle-orm";
import { accountBalances, instanceEvents, instanceRuns } from "../../db/schema";
import { stopInstancesAfterGrace } from "../../src/billing/grace-sweep";
import { postEntry } from "../../src/billing/ledger";
import { provisionRun } from "../../src/instances/provisioning";
import type { InstanceState } from "../../src/instances/state-machine";
import { waitForExit } from "../../src/platform/embedded-postgres";
import { type Provider, ProvisionError } from "../../src/providers/seam";
import { referenceLaunch, startCompute, waitFor } from "../support/compute";

/**
 * Where a run ends, as a user or an auditor checks it: every end is stamped once, by the database clock, at
 * the moment billing must stop (the instance's own event for that moment), with why it ended.
 */
const compute = await startCompute();
type Api = Awaited<ReturnType<typeof compute.fundedUser>>["api"];

const runRow = async (runId: string) => (await compute.db.select().from(instanceRuns).where(eq(instanceRuns.id, runId)))[0]!;

/** When the instance entered `state` for the first time, from its timeline (instance_events). */
async function enteredAt(instanceId: string, state: InstanceState): Promise<Date> {
  const [event] = await compute.db
    .select()
    .from(instanceEvents)
    .where(and(eq(instanceEvents.instanceId, instanceId), eq(instanceEvents.toState, state)))
    .orderBy(asc(instanceEvents.id))
    .limit(1);
  return event!.at;
}

async function runningInstance(api: Api, servingName: string) {
  const launched = await api.instances.launch({ ...referenceLaunch, servingName });
  const running = await waitFor(
    () => api.instances.get({ id: launched.id }),
    (i) => i.state === "running",
    20_000,
    `${servingName} running`,
  );
  return { id: running.id, runId: running.runs[0]!.id, podId: running.runs[0]!.podId! };
}

const settled = (api: Api, id: string, state: InstanceState) =>
  waitFor(
    () => api.instances.get({ id }),
    (i) => i.state === state,
    20_000,
    state,
  );

/** Silences a pod (its agent and runtime killed) and lets the test speak with its agent's token. */
async function silencedPod(podId: string) {
  const dir = join(compute.podsDir, podId);
  const { agentPid } = JSON.parse(readFileSync(join(dir, "pod.json"), "utf8"));
  const { token, runId } = JSON.parse(readFileSync(join(dir, "agent.json"), "utf8"));
  process.kill(-agentPid, "SIGKILL");
  await waitForExit(agentPid, 5000);
  const heartbeat = (workload: object) =>
    fetch(`${compute.url}/agent/heartbeat`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ runId, at: new Date().toISOString(), workload }),
    });
  return { heartbeat };
}

const crash = { state: "exited", exitCode: 137, signal: null, lastLines: "Killed" };

describe("a run ends when billing must stop", () => {
  test("a user's stop ends the run as the instance enters stopping; the stop job releases the pod without rewriting the end", async () => {
    const { api } = await compute.fundedUser();
    const { id, runId } = await runningInstance(api, "runs-stop");
    await api.instances.stop({ id });
    const atRequest = await runRow(runId);
    expect(atRequest.endedAt).toEqual(await enteredAt(id, "stopping"));
    expect(atRequest.endedBecause).toBe("stopped");
    expect(atRequest.endReason).toStartWith("stopped by");

    const stopped = await settled(api, id, "stopped");
    const after = await runRow(runId);
    expect(after.endedAt).toEqual(atRequest.endedAt);
    expect(after.endedBecause).toBe("stopped");
    // The pod beat until it was released: none of it is past the end.
    expect(after.lastHeartbeatAt!.getTime()).toBeLessThanOrEqual(after.endedAt!.getTime());
    expect(stopped.runs[0]!.endedBecause).toBe("stopped");
  }, 60_000);

  test("a crash report ends it as failed, once: a duplicate report and the stop job change nothing, and later beats are refused", async () => {
    const { api } = await compute.fundedUser();
    const { id, runId, podId } = await runningInstance(api, "runs-crash");
    const pod = await silencedPod(podId);
    expect((await pod.heartbeat(crash)).status).toBe(200);
    const failed = await runRow(runId);
    expect(failed.endedBecause).toBe("failed");
    expect(failed.endReason).toBe("The runtime process exited with code 137.");
    expect(failed.endedAt).toEqual(await enteredAt(id, "failed"));

    expect((await pod.heartbeat(crash)).status).toBe(410);
    expect((await pod.heartbeat({ state: "ready" })).status).toBe(410);
    await waitFor(
      () => compute.provider.status({ podId, externalId: podId }),
      (s) => s.state === "gone",
      20_000,
      "pod released",
    );
    expect(await runRow(runId)).toMatchObject({ endedAt: failed.endedAt, endedBecause: "failed", endReason: failed.endReason });
    const detail = await api.instances.get({ id });
    expect(detail.events.filter((e) => e.to === "failed")).toHaveLength(1);
  }, 60_000);

  test("a pod the reconciler finds gone ends as lost", async () => {
    const { api } = await compute.fundedUser();
    const { id, runId, podId } = await runningInstance(api, "runs-lost");
    await silencedPod(podId);
    await Bun.sleep(3500);
    const report = await compute.reconcileNow({ bootstrapDeadlineSeconds: 900, heartbeatTimeoutSeconds: 3 });
    expect(report.lost).toContain(id);
    const run = await runRow(runId);
    expect(run.endedBecause).toBe("lost");
    expect(run.endReason).toStartWith("The pod stopped responding");
    expect(run.endedAt).toEqual(await enteredAt(id, "failed"));
  }, 60_000);

  test("the grace window's end stops the instance and ends its run as grace", async () => {
    const { user, api } = await compute.fundedUser(10_000);
    const { id, runId } = await runningInstance(api, "runs-grace");
    await postEntry(compute.db, { accountId: user.accountId, kind: "debit", amountCents: -10_500, reference: `debit:test:${runId}` });
    await compute.db.update(accountBalances).set({ graceStartedAt: sql`now() - interval '25 hours'` }).where(eq(accountBalances.accountId, user.accountId));
    expect(await stopInstancesAfterGrace(compute.db, compute.jobs, 24)).toEqual([id]);
    const run = await runRow(runId);
    expect(run.endedBecause).toBe("grace");
    expect(run.endedAt).toEqual(await enteredAt(id, "stopping"));
  }, 60_000);

  test("deleting a running instance ends its run as deleted; deleting a stopped one ends nothing again", async () => {
    const { api } = await compute.fundedUser();
    const live = await runningInstance(api, "runs-delete");
    await api.instances.delete({ id: live.id });
    const run = await runRow(live.runId);
    expect(run.endedBecause).toBe("deleted");
    expect(run.endedAt).toEqual(await enteredAt(live.id, "stopping"));

    const idle = await runningInstance(api, "runs-delete-stopped");
    await api.instances.stop({ id: idle.id });
    await settled(api, idle.id, "stopped");
    const before = await runRow(idle.runId);
    await api.instances.delete({ id: idle.id });
    expect(await runRow(idle.runId)).toMatchObject({ endedAt: before.endedAt, endedBecause: "stopped" });
  }, 60_000);
});

describe("runs that never served", () => {
  // Provisioning is run by hand from here on (for the rest of this file).
  const pending = async (api: Api, servingName: string) => {
    await compute.boss.offWork("instances.provision");
    const launched = await api.instances.launch({ ...referenceLaunch, servingName });
    const detail = await api.instances.get({ id: launched.id });
    return { id: detail.id, runId: detail.runs[0]!.id };
  };

  test("no offer that can be provisioned: the run ends as placement_failed", async () => {
    const { api } = await compute.fundedUser();
    const { id, runId } = await pending(api, "runs-placement");
    // The local provider's offers, whose capacity is gone when asked for.
    const broken: Provider = {
      id: compute.provider.id,
      offers: () => compute.provider.offers(),
      provision: async () => {
        throw new ProvisionError("capacity gone", true);
      },
      stop: async () => {},
      status: async () => ({ state: "gone" }),
      pods: async () => [],
    };
    const outcome = await provisionRun(
      {
        db: compute.db,
        jobs: compute.jobs,
        providers: [broken],
        controlUrl: compute.url,
        hubEndpoint: compute.config.HF_ENDPOINT,
        maxAttempts: 1,
        leaseSeconds: 30,
      },
      id,
      runId,
    );
    expect(outcome).toBe("failed");
    const run = await runRow(runId);
    expect(run.endedBecause).toBe("placement_failed");
    expect(run.endReason).toStartWith("placement failed: every offer tried failed to provision");
    expect(run.endedAt).toEqual(await enteredAt(id, "failed"));
    expect(run.runningAt).toBeNull();
  }, 60_000);

  test("a runtime that never becomes healthy ends as non_bootstrap", async () => {
    const { api } = await compute.fundedUser();
    const { id, runId } = await pending(api, "runs-non-bootstrap");
    await Bun.sleep(1100);
    const report = await compute.reconcileNow({ bootstrapDeadlineSeconds: 1, heartbeatTimeoutSeconds: 30 });
    expect(report.nonBootstrap).toContain(id);
    const run = await runRow(runId);
    expect(run.endedBecause).toBe("non_bootstrap");
    expect(run.endedAt).toEqual(await enteredAt(id, "non_bootstrap"));
  }, 60_000);
});

describe("one writer", () => {
  /** Every TypeScript file under src/, with its path from the repository root. */
  function sources(dir = "src"): { path: string; text: string }[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return sources(path);
      return entry.name.endsWith(".ts") ? [{ path, text: readFileSync(path, "utf8") }] : [];
    });
  }

  test("no file under src/ but runs.ts writes instance_runs' lifecycle (metering writes only the billed columns)", () => {
    const files = sources();
    expect(files.some((f) => f.path === "src/instances/runs.ts")).toBe(true);
    const drizzleWrite = /\.(update|insert|delete)\(\s*instanceRuns\s*\)|(update|insert\s+into|delete\s+from)\s+\$\{\s*instanceRuns\s*\}/i;
    const rawWrite = /(update|insert\s+into|delete\s+from)\s+instance_runs\b/gi;
    const offenders: string[] = [];
    for (const file of files) {
      if (file.path === "src/instances/runs.ts") continue;
      if (drizzleWrite.test(file.text)) offenders.push(file.path);
      for (const match of file.text.matchAll(rawWrite)) {
        // The billing tick and settlement may move only the billed columns and settled_at.
        const rest = file.text.slice(match.index).match(/^update\s+instance_runs\s+(?:\w+\s+)?set\s+([\s\S]*?)\s+(?:from|where)\b/i);
        const columns = rest?.[1]?.match(/(\w+)\s*=/g)?.map((c) => c.replace(/\s*=$/, "").trim()) ?? ["?"];
        if (!file.path.startsWith("src/metering/") || columns.some((c) => !["billed_seconds", "billed_cents", "settled_at"].includes(c))) {
          offenders.push(`${file.path}: ${match[0]}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});

/**
 * Many replicas on one PostgreSQL (issue 16): the platform as `npm start` runs it with API_REPLICAS=3 and
 * WORKER_REPLICAS=3, all three api processes on the one URL. A customer launches, calls, schedules, revokes
 * and stops across them while one api and one worker are killed with -9 mid-provisioning (the supervisor
 * restarts them). Afterwards every invariant holds: each run's charge is exact and posted once, the balance
 * is the ledger's sum, each due time of a schedule fired once, no run ever had two pods, a revoked key is
 * refused everywhere a second later.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { createClient } from "../../src/cli/client";
import { randomBase62 } from "../../src/ids";
import { isAlive } from "../../src/platform/embedded-postgres";
import { listPodIds, readPodRecord } from "../../src/providers/local/pod-files";
import { freePort } from "../support/cluster";
import { referenceLaunch } from "../support/compute";
import { freshDatabase } from "../support/db";
import { debitedFor, refundsOf } from "../support/metering";
import { isPortOpen, platformForFile, waitUntil } from "../support/platform";

const database = await freshDatabase();
const OPERATOR_TOKEN = `operator-${randomBase62(32)}`;
/** Three ports in a row nobody listens on: each api replica's own /metrics. */
async function threeFreePorts(): Promise<number> {
  for (;;) {
    const base = await freePort();
    if (!(await isPortOpen(base + 1)) && !(await isPortOpen(base + 2)) && base + 2 < 65536) return base;
  }
}
const apiMetricsPort = await threeFreePorts();
const platform = platformForFile({
  env: {
    OPERATOR_TOKEN,
    API_METRICS_PORT: String(apiMetricsPort),
    DATABASE_URL: database.url,
    DATABASE_OWNER_URL: database.ownerUrl,
    API_REPLICAS: "3",
    WORKER_REPLICAS: "3",
    BILLING_TICK_SECONDS: "5",
    SCHEDULE_POLL_SECONDS: "2",
    // A provisioner killed mid-way is replaced within seconds, not the default half minute.
    PROVISION_LEASE_SECONDS: "6",
    LOCAL_GPUS: "L4:12",
    LOCAL_REFERENCE_BOOT_MS: "500",
  },
});

const INSTANCES = 6;

/** A /v1 chat on a fresh connection each time, so the kernel spreads them over the api replicas. */
function chat(secret: string, model: string) {
  return fetch(`${platform.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/json", connection: "close" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hello" }], max_tokens: 4 }),
  });
}

/** Live pods (their agent runs) under the local provider, by run. */
function livePodsByRun(): Map<string, string[]> {
  const podsDir = join(platform.dataDir, "pods");
  const byRun = new Map<string, string[]>();
  for (const podId of listPodIds(podsDir)) {
    const record = readPodRecord(podsDir, podId);
    if (!record || record.stoppedAt || !record.agentPid || !isAlive(record.agentPid)) continue;
    byRun.set(record.runId, [...(byRun.get(record.runId) ?? []), podId]);
  }
  return byRun;
}

test("3 api and 3 worker replicas, one of each killed with -9 midway: launches, calls, schedules, revocation and billing stay exact", async () => {
  const children = platform.children();
  const apis = children.filter((child) => child.script.endsWith("server/api.ts"));
  const workers = children.filter((child) => child.script.endsWith("workers/main.ts"));
  expect([apis.length, workers.length]).toEqual([3, 3]);

  // A customer with €50 and an inference key.
  const email = `replicas-${randomBase62(8).toLowerCase()}@example.com`;
  const signedUp = await createClient(platform.url).auth.signup.mutate({ email, password: "correct horse battery staple", client: "cli" });
  const api = createClient(platform.url, signedUp.sessionToken!);
  const checkout = await api.billing.createCheckout.mutate({ amountCents: 5000 });
  await api.billing.completeDevCheckout.mutate({ id: checkout.id, outcome: "pay" });
  const { secret, key } = await api.apiKeys.create.mutate({ name: "replicas", scope: "inference" });

  // Launches land on any api replica; one api and one worker die while the workers provision them.
  const launched = await Promise.all(
    Array.from({ length: INSTANCES }, (_, i) => api.instances.launch.mutate({ ...referenceLaunch, name: `replica-${i}`, servingName: `replica-${i}` })),
  );
  const ids = launched.map((instance) => instance.id);
  const ruleCreatedAt = Date.now();
  await api.schedules.create.mutate({ instanceId: ids[0]!, rules: [{ action: "start", cron: "* * * * *", timeZone: "UTC" }] });
  process.kill(apis[0]!.pid, "SIGKILL");
  process.kill(workers[0]!.pid, "SIGKILL");

  await waitUntil(
    "every instance runs",
    async () => (await api.instances.list.query()).filter((instance) => ids.includes(instance.id) && instance.state === "running").length === INSTANCES,
    120_000,
  );
  // No run ever got a second pod: exactly one live pod per running instance's run.
  const runs = await database.db.execute<{ id: string; instance_id: string }>(
    sql`select r.id, r.instance_id from instance_runs r join instances i on i.current_run_id = r.id where i.id = any(${sql.param(ids)}::text[])`,
  );
  const live = livePodsByRun();
  expect(runs.map((run) => live.get(run.id)?.length ?? 0)).toEqual(runs.map(() => 1));
  expect([...live.values()].flat()).toHaveLength(INSTANCES);

  // /v1 across the replicas (the killed api's port share is served by the others and its restart).
  for (let round = 0; round < 3; round++) {
    const answers = await Promise.all(launched.map((instance) => chat(secret, `replica-${launched.indexOf(instance)}`)));
    expect(answers.map((answer) => answer.status)).toEqual(launched.map(() => 200));
  }

  // Each api replica counted its own share of those calls: the kernel spread them, and together they are all of them.
  const served = await Promise.all(
    [0, 1, 2].map(async (n) => {
      const text = await (await fetch(`http://127.0.0.1:${apiMetricsPort + n}/metrics`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).text();
      return Number(/^qdz_v1_requests_total\{endpoint="chat\/completions",status="200"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    }),
  );
  expect(served.reduce((sum, n) => sum + n, 0)).toBe(3 * INSTANCES);
  expect(served.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);

  // Revoked through one replica, refused by all of them a second later.
  await api.apiKeys.revoke.mutate({ id: key.id });
  await Bun.sleep(1000);
  const afterRevoke = await Promise.all(Array.from({ length: 30 }, () => chat(secret, "replica-1")));
  expect(afterRevoke.map((answer) => answer.status)).toEqual(afterRevoke.map(() => 401));

  // Long enough for a few billing ticks and at least one due time of the schedule.
  await waitUntil("the schedule's first due time passed", () => Date.now() > Math.ceil((ruleCreatedAt + 1) / 60_000) * 60_000 + 5_000, 70_000);

  await api.instances.stopMany.mutate({ ids });
  await waitUntil(
    "every run is stopped and settled",
    async () => {
      const [row] = await database.db.execute<{ open: number }>(
        sql`select count(*)::int as open from instance_runs where instance_id = any(${sql.param(ids)}::text[]) and settled_at is null`,
      );
      return row!.open === 0;
    },
    60_000,
  );
  const stoppedAt = Date.now();

  // Billing: each run charged floor(seconds × rate / 3600), once; at most one refund; the balance is the ledger's sum.
  const billed = await database.db.execute<{ id: string; billed_seconds: number; billed_cents: number; rate_cents_per_hour: number; ran: number | null }>(
    sql`select id, billed_seconds, billed_cents::int as billed_cents, rate_cents_per_hour,
          extract(epoch from ended_at - running_at)::float as ran
        from instance_runs where instance_id = any(${sql.param(ids)}::text[])`,
  );
  expect(billed.length).toBeGreaterThanOrEqual(INSTANCES);
  for (const run of billed) {
    expect(run.billed_cents).toBe(Math.floor((run.billed_seconds * run.rate_cents_per_hour) / 3600));
    expect(await debitedFor(database.db, run.id)).toBe(run.billed_cents);
    expect((await refundsOf(database.db, run.id)).length).toBeLessThanOrEqual(1);
    if (run.ran !== null) expect(run.billed_seconds).toBeLessThanOrEqual(Math.ceil(run.ran));
  }
  const [money] = await database.db.execute<{ balance: number; ledger: number }>(
    sql`select (select balance_cents::int from account_balances where account_id = ${signedUp.accountId}) as balance,
               (select sum(amount_cents)::int from ledger_entries where account_id = ${signedUp.accountId}) as ledger`,
  );
  expect(money!.balance).toBe(money!.ledger);
  expect((await api.billing.balance.query()).balanceCents).toBe(money!.ledger);

  // The schedule: each due minute between its creation and the stop has exactly one execution.
  const executions = await database.db.execute<{ due: string; n: number }>(
    sql`select due_at::text as due, count(*)::int as n from schedule_executions where instance_id = ${ids[0]} group by due_at order by due_at`,
  );
  const firstDue = Math.ceil((ruleCreatedAt + 1) / 60_000) * 60_000;
  const dueMinutes = (stoppedAt - firstDue) / 60_000 + 1;
  expect(executions.length).toBeGreaterThanOrEqual(Math.floor(dueMinutes));
  expect(executions.every((execution) => execution.n === 1)).toBe(true);

  // Every pod is gone, and the supervisor restarted exactly the two processes that were killed.
  // (a stopped run is settled at once; its pod is given up to 10 s to exit before it is killed)
  await waitUntil("every pod is gone", () => livePodsByRun().size === 0, 30_000);
  const restarts = platform.output().match(/\[qdz\] (api|workers)-\d exited \(code [^)]*\); restarting/g) ?? [];
  expect(restarts).toHaveLength(2);
  // Neither restart lost the shared port: the supervisor's own health check still answers.
  expect((await fetch(`${platform.url}/readyz`)).status).toBe(200);
}, 300_000);

import type { PgBoss } from "pg-boss";
import { type JobName, type JobPayloads, jobNames } from "../src/jobs/names";
import { billingTick } from "./billing-tick";
import { deliverWebhook } from "./deliver-webhook";
import { foldUsage } from "./fold-usage";
import { graceSweep } from "./grace-sweep";
import { installRuntime } from "./install-runtime";
import type { JobDefinition, WorkerServices } from "./job";
import { ping } from "./ping";
import { provision } from "./provision";
import { pruneRateLimits } from "./prune-rate-limits";
import { pruneSamples } from "./prune-samples";
import { reconcileJob } from "./reconcile";
import { fireSchedules } from "./schedules-fire";
import { settleRun } from "./settle-run";
import { spendWatch } from "./spend-watch";
import { stop } from "./stop";

/** One handler per job name; the type refuses a missing name at compile time. */
export const registry: { [N in JobName]: JobDefinition<N> } = {
  "system.ping": ping,
  "instances.provision": provision,
  "instances.stop": stop,
  "instances.reconcile": reconcileJob,
  "runtimes.install": installRuntime,
  "billing.grace-sweep": graceSweep,
  "billing.tick": billingTick,
  "billing.settle-run": settleRun,
  "usage.prune-samples": pruneSamples,
  "proxy.prune-rate-limits": pruneRateLimits,
  "usage.fold-days": foldUsage,
  "spend.watch": spendWatch,
  "webhooks.deliver": deliverWebhook,
  "schedules.fire": fireSchedules,
};

/** The same rule at run time, for names added to the list without a handler. */
// biome-ignore lint/suspicious/noExplicitAny: the run-time check takes any table, whatever its job names
export function checkRegistry(table: Record<string, JobDefinition<any> | undefined>, names: readonly string[] = jobNames): void {
  const missing = names.filter((name) => !table[name]);
  const unknown = Object.keys(table).filter((name) => !names.includes(name));
  const misnamed = Object.entries(table)
    .filter(([name, job]) => job && job.name !== name)
    .map(([name]) => name);
  if (missing.length || unknown.length || misnamed.length) {
    throw new Error(
      [
        missing.length && `jobs without a handler: ${missing.join(", ")}`,
        unknown.length && `handlers for unknown jobs: ${unknown.join(", ")}`,
        misnamed.length && `handlers registered under another job's name: ${misnamed.join(", ")}`,
      ]
        .filter(Boolean)
        .join("; "),
    );
  }
}

/** Creates every queue and starts a worker on it. */
export async function registerWorkers(boss: PgBoss, services: WorkerServices, table = registry): Promise<void> {
  checkRegistry(table);
  for (const job of Object.values(table) as JobDefinition<JobName>[]) {
    // The api may have created the queue first (with defaults): make sure the job's own options hold.
    if (await boss.getQueue(job.name)) await boss.updateQueue(job.name, job.queue);
    else await boss.createQueue(job.name, job.queue);
    // A schedule a job no longer has (a database from an older version) is dropped.
    if (job.schedule) await boss.schedule(job.name, job.schedule, {}, { tz: "UTC" });
    else await boss.unschedule(job.name);
    await boss.work<JobPayloads[JobName]>(job.name, { pollingIntervalSeconds: 0.5 }, async (jobs) => {
      const results = [];
      for (const item of jobs) results.push(await job.handle(item.data, services, item));
      return results.length === 1 ? results[0] : results;
    });
  }
}

/**
 * Every background job, by name, with its payload. The domain enqueues by
 * name (it never imports a handler); `workers/registry.ts` must give each
 * name exactly one handler or the workers refuse to start.
 */
export interface JobPayloads {
  /** A round trip through the queue: proves the workers are alive. */
  "system.ping": { nonce: string };
  /** Places a pending instance's run with the scheduler and provisions its pod. */
  "instances.provision": { instanceId: string; runId: string };
  /** Terminates a stopping instance's pod and settles it as stopped. */
  "instances.stop": { instanceId: string; runId: string };
  /** Makes the database and the providers agree (non-bootstrap, lost pods, orphans, lost jobs). */
  "instances.reconcile": Record<string, never>;
  /** Builds a runtime binary on this machine (llama.cpp's llama-server). */
  "runtimes.install": { runtimeId: string };
  /** Stops the instances of accounts whose grace window ended with a negative balance. */
  "billing.grace-sweep": Record<string, never>;
  /** Bills every running run up to its last heartbeat, and settles ended runs whose settlement was lost. */
  "billing.tick": Record<string, never>;
  /** Bills an ended run up to its end and refunds an early failure; enqueued with the end of the run. */
  "billing.settle-run": { runId: string };
  /** Deletes resource samples older than RESOURCE_SAMPLE_RETENTION_HOURS, in small batches. */
  "usage.prune-samples": Record<string, never>;
  /** Deletes /v1 rate-limit buckets untouched for ten minutes (full, so the same as none). */
  "proxy.prune-rate-limits": Record<string, never>;
  /** Folds each UTC day, an hour after it ends, from the instance hours into the daily usage rollup. */
  "usage.fold-days": Record<string, never>;
  /** Compares month-to-date spend with budgets and runway with its thresholds: alerts once per crossing, stops at 100 %. */
  "spend.watch": Record<string, never>;
  /** POSTs one alert to the account's webhook endpoint, signed; retried with backoff, every attempt logged. */
  "webhooks.deliver": { deliveryId: string };
  /** Fires the schedule rules that are due (start or stop their instance), each due time once. */
  "schedules.fire": Record<string, never>;
}

export type JobName = keyof JobPayloads;

/** The runtime list of names, checked against the registry at start-up. */
export const jobNames = [
  "system.ping",
  "instances.provision",
  "instances.stop",
  "instances.reconcile",
  "runtimes.install",
  "billing.grace-sweep",
  "billing.tick",
  "billing.settle-run",
  "usage.prune-samples",
  "proxy.prune-rate-limits",
  "usage.fold-days",
  "spend.watch",
  "webhooks.deliver",
  "schedules.fire",
] as const satisfies readonly JobName[];

import { sql } from "drizzle-orm";
import type { PgBoss } from "pg-boss";
import { Gauge, Registry } from "prom-client";
import type { Executor } from "../../db/client";
import { podStates } from "../instances/state-machine";
import { jobNames } from "../jobs/names";
import { log } from "./log";

/** What the gauges need of pg-boss: the api's send-only instance has it. */
export type QueueReader = Pick<PgBoss, "getQueues">;

export interface DatabaseGaugeOptions {
  /** How long one reading serves every scrape (several Prometheus servers, or replicas' scrapes, share it). */
  ttlMs?: number;
  /** A reading slower than this leaves the gauges out of that scrape rather than holding it. */
  timeoutMs?: number;
}

/**
 * Gauges read from PostgreSQL at scrape time, so every api replica reports the same platform-wide numbers
 * without keeping state: queue depths (pg-boss's counts, as of its last monitor pass in a worker) and the
 * instances that hold pods, by provider and state. Each is one bounded query over fixed label sets (the job
 * names, the pod-holding states, the providers), cached for a few seconds; a failed or slow read leaves its
 * gauge out of that scrape, while the process's own metrics are still served.
 */
export function databaseGauges(db: Executor, boss: QueueReader | undefined, options: DatabaseGaugeOptions = {}): Registry {
  const registry = new Registry();
  const ttlMs = options.ttlMs ?? 5000;
  const timeoutMs = options.timeoutMs ?? 2000;
  const queues = cachedReading(ttlMs, timeoutMs, "queue depths", () => readQueueDepths(boss));
  const pods = cachedReading(ttlMs, timeoutMs, "instances by state", () => readInstancesByProvider(db));

  new Gauge({
    name: "qdz_queue_jobs",
    help: "Jobs in each pg-boss queue by state (queued includes deferred), as of pg-boss's last monitor pass.",
    labelNames: ["queue", "state"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const queue of (await queues()) ?? []) {
        this.set({ queue: queue.name, state: "queued" }, queue.queuedCount);
        this.set({ queue: queue.name, state: "deferred" }, queue.deferredCount);
        this.set({ queue: queue.name, state: "active" }, queue.activeCount);
        this.set({ queue: queue.name, state: "failed" }, queue.failedCount);
      }
    },
  });
  new Gauge({
    name: "qdz_instances",
    help: "Instances holding a pod (pending, running, stopping), by provider and state.",
    labelNames: ["provider", "state"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of (await pods()) ?? []) this.set({ provider: row.provider ?? "none", state: row.state }, row.count);
    },
  });
  return registry;
}

/** pg-boss's counts for every job queue, as of its last monitor pass in a worker; none without pg-boss. */
export async function readQueueDepths(boss: QueueReader | undefined) {
  return boss ? boss.getQueues([...jobNames]) : [];
}

/** The instances that hold a pod (pending, running, stopping), counted by provider and state. */
export function readInstancesByProvider(db: Executor) {
  return db.execute<{ provider: string | null; state: string; count: number }>(sql`
    select provider_id as provider, state, count(*)::int as count from instances
    where state in (${sql.join(
      podStates.map((state) => sql`${state}`),
      sql`, `,
    )}) and deleted_at is null
    group by provider_id, state`);
}

/** `read()`'s latest result for `ttlMs`, one read at a time; null when it failed or took longer than `timeoutMs`. */
function cachedReading<T>(ttlMs: number, timeoutMs: number, what: string, read: () => Promise<T>): () => Promise<T | null> {
  let cached: { value: T; at: number } | undefined;
  let pending: Promise<T | null> | undefined;
  return () => {
    if (cached && performance.now() - cached.at < ttlMs) return Promise.resolve(cached.value);
    pending ??= read()
      .then((value) => {
        cached = { value, at: performance.now() };
        return value;
      })
      .catch((error) => {
        log.warn({ err: error }, `metrics: reading ${what} failed; left out of this scrape`);
        return null;
      })
      .finally(() => {
        pending = undefined;
      });
    let timer: Timer | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    return Promise.race([pending, late]).finally(() => clearTimeout(timer));
  };
}

import { sql } from "drizzle-orm";
import { fromDrizzle, PgBoss, type SendOptions } from "pg-boss";
import type { Executor } from "../../db/client";
import { log } from "../platform/log";
import type { JobName, JobPayloads } from "./names";

/**
 * How the domain enqueues work: by job name and typed payload, optionally
 * inside the caller's transaction, so a state change and the job that acts
 * on it commit together or not at all.
 */
export interface JobQueue {
  send<N extends JobName>(name: N, payload: JobPayloads[N], options?: SendOptions & { tx?: Executor }): Promise<string | null>;
}

/**
 * pg-boss on the platform's own database, in the `pgboss` schema. A
 * `sendOnly` instance (the api) runs no maintenance and no cron: the workers do.
 * Nor does it register in pg-boss's instance registry (which nothing here
 * reads): each registry beat takes `v8.getHeapStatistics()`, which under Bun
 * walks the whole heap on the event loop — about 0.5 ms per 1,000 live
 * objects, a pause of tenths of a second every 30 s in an api holding
 * thousands of pods' connections, and every request waits it out.
 */
export function createQueue(databaseUrl: string, options: { spies?: boolean; sendOnly?: boolean } = {}): PgBoss {
  const boss = new PgBoss({
    connectionString: databaseUrl,
    max: 4,
    __test__enableSpies: options.spies ?? false,
    ...(options.sendOnly && { supervise: false, schedule: false, registerInstance: false }),
  });
  boss.on("error", (error) => log.error({ err: error }, `pg-boss: ${error.message}`));
  return boss;
}

/**
 * A JobQueue over pg-boss; `tx` joins a drizzle transaction through pg-boss's
 * own adapter. pg-boss needs a queue to exist before a send: on a fresh
 * database the api may send before any worker has created it, so a missing
 * queue is created here (the workers then apply their retry options to it).
 */
export function jobQueue(boss: PgBoss): JobQueue {
  const known = new Set<string>();
  return {
    async send(name, payload, options = {}) {
      const { tx, ...sendOptions } = options;
      if (!known.has(name)) {
        if (!(await boss.getQueue(name))) await boss.createQueue(name);
        known.add(name);
      }
      // biome-ignore lint/suspicious/noExplicitAny: pg-boss types its adapter against drizzle generics a joined transaction does not name
      return boss.send(name, payload, tx ? { ...sendOptions, db: fromDrizzle(tx as any, sql as any) } : sendOptions);
    },
  };
}

/** Sends a typed job; returns its id (null when a singleton key deduplicated it). */
export function enqueue<N extends JobName>(boss: PgBoss, name: N, payload: JobPayloads[N], options?: SendOptions) {
  return boss.send(name, payload, options);
}

/** A queue that refuses every job: for an app built without one (tests of surfaces that enqueue nothing). */
export const noJobQueue: JobQueue = {
  send: (name) => Promise.reject(new Error(`no job queue is configured here, but ${name} was enqueued`)),
};

import { PgBoss, type SendOptions } from "pg-boss";
import type { JobName, JobPayloads } from "./names";

/** pg-boss on the platform's own database, in the `pgboss` schema. */
export function createQueue(databaseUrl: string, options: { spies?: boolean } = {}): PgBoss {
  const boss = new PgBoss({ connectionString: databaseUrl, max: 4, __test__enableSpies: options.spies ?? false });
  boss.on("error", (error) => console.error(`[pg-boss] ${error.message}`));
  return boss;
}

/** Sends a typed job; returns its id (null when a singleton key deduplicated it). */
export function enqueue<N extends JobName>(boss: PgBoss, name: N, payload: JobPayloads[N], options?: SendOptions) {
  return boss.send(name, payload, options);
}

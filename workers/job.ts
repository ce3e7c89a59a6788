import type { Job, Queue } from "pg-boss";
import type { Database } from "../db/client";
import type { Config } from "../src/config";
import type { JobName, JobPayloads } from "../src/jobs/names";
import type { JobQueue } from "../src/jobs/queue";
import type { Provider } from "../src/providers/seam";

export interface WorkerServices {
  db: Database;
  config: Config;
  jobs: JobQueue;
  providers: Provider[];
}

/** One job's handler and queue options; `workers/<job>.ts` exports one of these. */
export interface JobDefinition<N extends JobName> {
  name: N;
  /** Retry limit, backoff, expiry and dead letter for this job's queue. */
  queue: Omit<Queue, "name">;
  /** Cron (UTC) for jobs that run on a schedule. */
  schedule?: string;
  /** Jobs are delivered at least once: a handler must be safe to run twice. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler either reports what it did or returns nothing
  handle(payload: JobPayloads[N], services: WorkerServices, job: Job<JobPayloads[N]>): Promise<object | void>;
}

export function defineJob<N extends JobName>(definition: JobDefinition<N>): JobDefinition<N> {
  return definition;
}

import type { Job, Queue } from "pg-boss";
import type { DatabaseHandle } from "../db/client";
import type { JobName, JobPayloads } from "../src/jobs/names";

export interface WorkerServices {
  db: DatabaseHandle["db"];
}

/** One job's handler and queue options; `workers/<job>.ts` exports one of these. */
export interface JobDefinition<N extends JobName> {
  name: N;
  /** Retry limit, backoff, expiry and dead letter for this job's queue. */
  queue: Omit<Queue, "name">;
  /** Jobs are delivered at least once: a handler must be safe to run twice. */
  handle(payload: JobPayloads[N], services: WorkerServices, job: Job<JobPayloads[N]>): Promise<object | void>;
}

export function defineJob<N extends JobName>(definition: JobDefinition<N>): JobDefinition<N> {
  return definition;
}

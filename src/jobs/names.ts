/**
 * Every background job, by name, with its payload. The domain enqueues by
 * name (it never imports a handler); `workers/registry.ts` must give each
 * name exactly one handler or the workers refuse to start.
 */
export interface JobPayloads {
  /** A round trip through the queue: proves the workers are alive. */
  "system.ping": { nonce: string };
}

export type JobName = keyof JobPayloads;

/** The runtime list of names, checked against the registry at start-up. */
export const jobNames = ["system.ping"] as const satisfies readonly JobName[];

import { eq, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { instanceRuns, instances } from "../../db/schema";
import { sha256Hex } from "../auth/secrets";
import { cacheLookupCounter } from "../platform/metrics";
import type { InstanceState } from "./state-machine";

const countLookup = cacheLookupCounter("agent_tokens");

/** The run an agent token belongs to, with what the hot path needs to know about its instance. */
export interface AgentRun {
  runId: string;
  instanceId: string;
  ended: boolean;
  current: boolean;
  state: InstanceState;
}

/**
 * Agent tokens → their runs, read from the database once per token and kept: at 10,000 pods beating every
 * second, a report costs no query. An entry stays true without a TTL because of what each fact is for:
 *
 * - `ended` (and `current`: a run stops being current only by ending) decides whether a pod is told its run
 *   is over. The heartbeat flush writes only live runs and names the batch's others, and `markEnded` turns
 *   them: a run ended anywhere (a stop through another replica, the reconciler, a delete) is answered 410
 *   from the flush after its next beat — the same bound on every replica, without a query of its own.
 * - `state` only decides whether to try a transition (pending → running, → failed) that locks the instance
 *   and re-reads it; the transition's outcome corrects the entry (see agent-reports.ts).
 *
 * Tokens not yet known are read together: every one asked for in the same turn of the event loop goes in
 * one query, so an api restarting under thousands of beating pods reads their tokens in a few large queries
 * rather than one per pod (one per pod took the api 3.5 s for 10,000 tokens; batched, 0.14 s).
 * Bounded in memory: past `maxEntries` the oldest entries go first and are read again if their pods report.
 */
export class AgentDirectory {
  readonly #byHash = new Map<string, AgentRun>();
  /** Run id → token hash, for `markEnded`. */
  readonly #byRun = new Map<string, string>();
  readonly #loading = new Map<string, Promise<AgentRun | null>>();
  /** Token hashes waiting for the next read, with their callers. */
  #wanted = new Map<string, { resolve: (run: AgentRun | null) => void; reject: (error: unknown) => void }>();

  constructor(
    private readonly db: Executor,
    private readonly maxEntries = 100_000,
  ) {}

  resolve(token: string): Promise<AgentRun | null> | AgentRun | null {
    const hash = sha256Hex(token);
    const known = this.#byHash.get(hash);
    countLookup(known !== undefined);
    if (known) return known;
    let loading = this.#loading.get(hash);
    if (!loading) {
      loading = this.#load(hash).finally(() => this.#loading.delete(hash));
      this.#loading.set(hash, loading);
    }
    return loading;
  }

  /** Runs the heartbeat flush found no longer live: their pods' next reports are answered as over. */
  markEnded(runIds: Iterable<string>): void {
    for (const runId of runIds) {
      const hash = this.#byRun.get(runId);
      const run = hash === undefined ? undefined : this.#byHash.get(hash);
      if (run) run.ended = true;
    }
  }

  #load(hash: string): Promise<AgentRun | null> {
    return new Promise((resolve, reject) => {
      if (this.#wanted.size === 0) setImmediate(() => void this.#read());
      this.#wanted.set(hash, { resolve, reject });
    });
  }

  async #read(): Promise<void> {
    const wanted = this.#wanted;
    this.#wanted = new Map();
    try {
      const rows = await this.db
        .select({
          hash: instanceRuns.agentTokenHash,
          runId: instanceRuns.id,
          instanceId: instanceRuns.instanceId,
          endedAt: instanceRuns.endedAt,
          currentRunId: instances.currentRunId,
          state: instances.state,
        })
        .from(instanceRuns)
        .innerJoin(instances, eq(instances.id, instanceRuns.instanceId))
        .where(sql`${instanceRuns.agentTokenHash} = any(${sql.param([...wanted.keys()])}::text[])`);
      const found = new Map(rows.map((row) => [row.hash, row]));
      for (const [hash, caller] of wanted) {
        const row = found.get(hash);
        // Unknown tokens are not kept: a wrong token costs its sender a query, never this process memory.
        caller.resolve(
          row
            ? this.#keep(hash, {
                runId: row.runId,
                instanceId: row.instanceId,
                ended: row.endedAt !== null,
                current: row.currentRunId === row.runId,
                state: row.state,
              })
            : null,
        );
      }
    } catch (error) {
      for (const caller of wanted.values()) caller.reject(error);
    }
  }

  #keep(hash: string, run: AgentRun): AgentRun {
    while (this.#byHash.size >= this.maxEntries) {
      const [oldest, evicted] = this.#byHash.entries().next().value as [string, AgentRun];
      this.#byHash.delete(oldest);
      this.#byRun.delete(evicted.runId);
    }
    this.#byHash.set(hash, run);
    this.#byRun.set(run.runId, hash);
    return run;
  }
}

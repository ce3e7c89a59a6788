import { eq, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { instanceRuns, instances } from "../../db/schema";
import { sha256Hex } from "../auth/secrets";
import type { CacheNotification, InvalidatedCache } from "../platform/cache-bus";
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
 * second, a report costs no query. What keeps each fact true:
 *
 * - `ended` (and `current`: a run stops being current only by ending) decides whether a pod is told its run
 *   is over. A run ended anywhere (a stop through another replica, the reconciler, a delete) is heard on the
 *   cache bus (`run_ended`) within milliseconds of its commit; and the heartbeat flush, which writes only
 *   live runs, names the batch's others to `markEnded` too, should a notification be missed.
 * - `state` only decides whether to try a transition (pending → running, → failed) that locks the instance
 *   and re-reads it; the transition's outcome corrects the entry (see agent-reports.ts).
 * - Entries are read again after `ttlMs` all the same, the safety net every cache of the platform keeps:
 *   ten minutes here, not the proxy's 30 s, because the flush already bounds the one fact that matters
 *   and 10,000 pods re-read every 30 s would be 330 token reads a second for nothing.
 *
 * Tokens not yet known are read together: every one asked for in the same turn of the event loop goes in
 * one query, so an api restarting under thousands of beating pods reads their tokens in a few large queries
 * rather than one per pod (one per pod took the api 3.5 s for 10,000 tokens; batched, 0.14 s).
 * Bounded in memory: past `maxEntries` the oldest entries go first and are read again if their pods report.
 */
export class AgentDirectory implements InvalidatedCache {
  readonly #byHash = new Map<string, AgentRun>();
  /** Token hash → when its entry is read again. */
  readonly #expiresAt = new Map<string, number>();
  /** Run id → token hash, for `markEnded`. */
  readonly #byRun = new Map<string, string>();
  readonly #loading = new Map<string, Promise<AgentRun | null>>();
  /** Token hashes waiting for the next read, with their callers. */
  #wanted = new Map<string, { resolve: (run: AgentRun | null) => void; reject: (error: unknown) => void }>();

  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(
    private readonly db: Executor,
    options: { maxEntries?: number; ttlMs?: number; now?: () => number } = {},
  ) {
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#ttlMs = options.ttlMs ?? 600_000;
    this.#now = options.now ?? Date.now;
  }

  resolve(token: string): Promise<AgentRun | null> | AgentRun | null {
    const hash = sha256Hex(token);
    const known = this.#byHash.get(hash);
    const fresh = known !== undefined && (this.#expiresAt.get(hash) ?? 0) > this.#now();
    countLookup(fresh);
    if (fresh) return known;
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

  apply(notification: CacheNotification): void {
    if (notification.kind === "run_ended") this.markEnded([notification.run_id]);
  }

  clear(): void {
    this.#byHash.clear();
    this.#byRun.clear();
    this.#expiresAt.clear();
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
    this.#forget(hash);
    while (this.#byHash.size >= this.#maxEntries) this.#forget(this.#byHash.keys().next().value as string);
    this.#byHash.set(hash, run);
    this.#byRun.set(run.runId, hash);
    this.#expiresAt.set(hash, this.#now() + this.#ttlMs);
    return run;
  }

  #forget(hash: string): void {
    const run = this.#byHash.get(hash);
    if (!run) return;
    this.#byHash.delete(hash);
    this.#byRun.delete(run.runId);
    this.#expiresAt.delete(hash);
  }
}

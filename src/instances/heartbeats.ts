import { sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import type { BootProgress } from "../../db/schema";
import { instances, resourceSamples } from "../../db/schema";
import { log } from "../platform/log";
import { heartbeatsReceived } from "../platform/metrics";
import { type SampleBody, sampleBody } from "./agent-contract";
import { recordHeartbeats } from "./runs";

type Readings = Omit<SampleBody, "runId" | "at">;

/**
 * A sample's readings, each with its column: the JSON rows of a flush carry the contract's field names, and
 * the INSERT takes its columns and their SQL types from the table, so neither shape is written out twice.
 */
const READINGS = (Object.keys(sampleBody.shape) as (keyof SampleBody)[])
  .filter((key): key is keyof Readings => key !== "runId" && key !== "at")
  .map((key) => ({ key, column: resourceSamples[key] }));
const readingsSql = {
  columns: sql.join(
    READINGS.map(({ column }) => sql.identifier(column.name)),
    sql`, `,
  ),
  values: sql.join(
    READINGS.map(({ key }) => sql`r.${sql.identifier(key)}`),
    sql`, `,
  ),
  record: sql.join(
    READINGS.map(({ key, column }) => sql`${sql.identifier(key)} ${sql.raw(column.getSQLType())}`),
    sql`, `,
  ),
};

/** A pod clock this far from the api's is logged (once per run); it moves nothing either way. */
const SKEW_LOGGED_MS = 5 * 60_000;

interface PendingBeat {
  /** When the api received it, on this process's monotonic clock (see `receivedAt`). */
  receivedMs: number;
  instanceId: string;
  /** The latest boot progress, for instances still pending; its `at` is replaced by the receive time. */
  progress: Omit<BootProgress, "at"> | null;
}

/**
 * Heartbeats and resource samples, held in memory and written in batches:
 * one UPDATE for every run's last heartbeat (and one for pending instances'
 * boot progress, when any is booting), one INSERT for all samples, per
 * flush. At 10,000 running pods beating once a second this is two
 * statements a second instead of 10,000.
 *
 * Time is the api's, never the pod's: a report is timed when it is received.
 * The time written is PostgreSQL's `now()` at the flush, less how long the
 * report waited in this batch (measured on the monotonic clock), so it is
 * the receive time on the database clock — the same clock as `running_at`,
 * the reconciler's timeout and metering — without the flush's delay (up to
 * a second) and without mixing in this process's wall clock.
 */
export class HeartbeatBatcher {
  private beats = new Map<string, PendingBeat>();
  private samples: { receivedMs: number; instanceId: string; readings: Readings }[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Flushes run one after another: two UPDATEs of the same runs at once lock them in opposite orders and deadlock. */
  private writing: Promise<unknown> = Promise.resolve();
  private queued = 0;
  /** Runs whose pod clock was already reported as off; bounded, as a log throttle only. */
  private skewLogged = new Set<string>();
  private endedListeners: ((runIds: string[]) => void)[] = [];

  constructor(private readonly db: Executor) {}

  /** `podAt` is the pod's own clock: only compared with ours, for the log. */
  recordBeat(runId: string, instanceId: string, podAt: string, progress: Omit<BootProgress, "at"> | null): void {
    heartbeatsReceived.inc();
    this.noteSkew(runId, podAt);
    this.beats.set(runId, { receivedMs: performance.now(), instanceId, progress });
  }

  recordSample(runId: string, instanceId: string, sample: SampleBody): void {
    const { runId: _, at, ...readings } = sample;
    this.noteSkew(runId, at);
    this.samples.push({ receivedMs: performance.now(), instanceId, readings });
  }

  /** Called after each flush with the beating runs it found no longer live (ended, or gone). */
  onEnded(listener: (runIds: string[]) => void): void {
    this.endedListeners.push(listener);
  }

  start(intervalMs = 1000): this {
    this.timer = setInterval(() => {
      // A flush slower than the interval is not piled on: the next one takes everything that arrived meanwhile.
      if (this.queued === 0) void this.flush().catch((error) => log.error({ err: error }, "heartbeat flush failed"));
    }, intervalMs);
    this.timer.unref?.();
    return this;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  flush(): Promise<{ beats: number; samples: number }> {
    this.queued++;
    const done = this.writing.then(() => this.write()).finally(() => this.queued--);
    this.writing = done.catch(() => {});
    return done;
  }

  private async write(): Promise<{ beats: number; samples: number }> {
    const flushMs = performance.now();
    const beats: { run_id: string; age_ms: number }[] = [];
    const booting: { instance_id: string; age_ms: number; progress: Omit<BootProgress, "at"> }[] = [];
    for (const [runId, beat] of this.beats) {
      const age = flushMs - beat.receivedMs;
      beats.push({ run_id: runId, age_ms: age });
      if (beat.progress) booting.push({ instance_id: beat.instanceId, age_ms: age, progress: beat.progress });
    }
    const samples = this.samples;
    const flushed = this.beats;
    this.beats = new Map();
    this.samples = [];
    if (beats.length) {
      // The runs' last heartbeats: written by runs.ts, the one writer of runs (live runs only).
      const { ended, busy } = await recordHeartbeats(this.db, beats);
      if (ended.length) for (const listener of this.endedListeners) listener(ended);
      // A run held by another transaction keeps its beat (and its receive time) for the next flush, unless a newer one came.
      for (const runId of busy) if (!this.beats.has(runId)) this.beats.set(runId, flushed.get(runId)!);
    }
    if (booting.length) {
      const received = sql`now() - b.age_ms * interval '1 millisecond'`;
      await this.db.execute(sql`
        update ${instances} set progress = b.progress || jsonb_build_object('at', to_char((${received}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
        from jsonb_to_recordset(${JSON.stringify(booting)}::jsonb) as b(instance_id text, age_ms float8, progress jsonb)
        where ${instances.id} = b.instance_id and ${instances.state} = 'pending'`);
    }
    if (samples.length) {
      // Charted later in order, so stamped like heartbeats: on receipt, by the database clock. The rows travel
      // as one JSON parameter, one statement text whatever the count: a multi-row VALUES of 2,000 samples (10,000
      // pods) took the api 70–200 ms of CPU to build, on its event loop, every second; this takes 4–9 ms.
      const rows = samples.map((s) => ({ instance_id: s.instanceId, age_ms: flushMs - s.receivedMs, ...s.readings }));
      await this.db.execute(sql`
        insert into ${resourceSamples} (instance_id, at, ${readingsSql.columns})
        select r.instance_id, now() - r.age_ms * interval '1 millisecond', ${readingsSql.values}
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(instance_id text, age_ms float8, ${readingsSql.record})`);
    }
    return { beats: beats.length, samples: samples.length };
  }

  private noteSkew(runId: string, podAt: string): void {
    const skewMs = Date.now() - Date.parse(podAt);
    if (!(Math.abs(skewMs) > SKEW_LOGGED_MS) || this.skewLogged.has(runId)) return;
    if (this.skewLogged.size >= 10_000) this.skewLogged.clear();
    this.skewLogged.add(runId);
    log.warn(
      { runId },
      `run ${runId}: its pod's clock is ${Math.round(Math.abs(skewMs) / 1000)} s ${skewMs < 0 ? "ahead of" : "behind"} the api's; its reports are timed on receipt, the pod's time ignored`,
    );
  }
}

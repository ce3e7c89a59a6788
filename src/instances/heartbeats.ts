import { sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import type { BootProgress } from "../../db/schema";
import { instances, resourceSamples } from "../../db/schema";
import type { SampleBody } from "./agent-contract";
import { recordHeartbeats } from "./runs";

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
 * one UPDATE for every run's last heartbeat (and pending instances' boot
 * progress), one INSERT for all samples, per flush. At 10,000 pods beating
 * once a second this is two statements a second instead of 10,000.
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
  private samples: { receivedMs: number; row: Omit<typeof resourceSamples.$inferInsert, "at"> }[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Runs whose pod clock was already reported as off; bounded, as a log throttle only. */
  private skewLogged = new Set<string>();

  constructor(private readonly db: Executor) {}

  /** `podAt` is the pod's own clock: only compared with ours, for the log. */
  recordBeat(runId: string, instanceId: string, podAt: string, progress: Omit<BootProgress, "at"> | null): void {
    this.noteSkew(runId, podAt);
    this.beats.set(runId, { receivedMs: performance.now(), instanceId, progress });
  }

  recordSample(runId: string, instanceId: string, sample: SampleBody): void {
    const { runId: _, at, ...readings } = sample;
    this.noteSkew(runId, at);
    this.samples.push({ receivedMs: performance.now(), row: { instanceId, ...readings } });
  }

  start(intervalMs = 1000): this {
    this.timer = setInterval(() => void this.flush().catch((error) => console.error("heartbeat flush failed", error)), intervalMs);
    this.timer.unref?.();
    return this;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  async flush(): Promise<{ beats: number; samples: number }> {
    const flushMs = performance.now();
    const beats = [...this.beats].map(([runId, beat]) => ({
      run_id: runId,
      instance_id: beat.instanceId,
      age_ms: flushMs - beat.receivedMs,
      progress: beat.progress,
    }));
    const samples = this.samples;
    this.beats = new Map();
    this.samples = [];
    if (beats.length) {
      // The runs' last heartbeats: written by runs.ts, the one writer of runs (live runs only).
      await recordHeartbeats(this.db, beats);
      const batch = JSON.stringify(beats);
      const received = sql`now() - b.age_ms * interval '1 millisecond'`;
      await this.db.execute(sql`
        update ${instances} set progress = b.progress || jsonb_build_object('at', to_char((${received}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
        from jsonb_to_recordset(${batch}::jsonb) as b(instance_id text, age_ms float8, progress jsonb)
        where ${instances.id} = b.instance_id and b.progress is not null and ${instances.state} = 'pending'`);
    }
    if (samples.length) {
      // Charted later in order, so stamped like heartbeats: on receipt, by the database clock.
      await this.db
        .insert(resourceSamples)
        .values(samples.map((s) => ({ ...s.row, at: sql`now() - ${flushMs - s.receivedMs}::float8 * interval '1 millisecond'` })));
    }
    return { beats: beats.length, samples: samples.length };
  }

  private noteSkew(runId: string, podAt: string): void {
    const skewMs = Date.now() - Date.parse(podAt);
    if (!(Math.abs(skewMs) > SKEW_LOGGED_MS) || this.skewLogged.has(runId)) return;
    if (this.skewLogged.size >= 10_000) this.skewLogged.clear();
    this.skewLogged.add(runId);
    console.warn(
      `run ${runId}: its pod's clock is ${Math.round(Math.abs(skewMs) / 1000)} s ${skewMs < 0 ? "ahead of" : "behind"} the api's; its reports are timed on receipt, the pod's time ignored`,
    );
  }
}

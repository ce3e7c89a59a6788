import { type AnyColumn, sql } from "drizzle-orm";
import { resourceSamples } from "../../db/schema";
import type { AccountContext } from "../context";
import { getInstance } from "../instances/queries";
import { type InstanceResources, type ResourceSeries, type ResourceSignal, resourceSignals } from "./types";

const WINDOW_HOURS = 24;
/** One point per minute: at most 1,440 per series over 24 h, the nulls included. */
const BUCKET_SECONDS = 60;
const BUCKET_MS = BUCKET_SECONDS * 1000;

/** The capacity charted beside each used amount. */
const totals: Partial<Record<ResourceSignal, "memoryTotalBytes" | "vramTotalBytes" | "diskTotalBytes">> = {
  memoryUsedBytes: "memoryTotalBytes",
  vramUsedBytes: "vramTotalBytes",
  diskUsedBytes: "diskTotalBytes",
};

type Bucket = { at: number } & Record<ResourceSignal | "memoryTotalBytes" | "vramTotalBytes" | "diskTotalBytes", number | null>;

/**
 * The Usage tab's resource charts: the instance's samples over the last 24 h,
 * averaged per minute in SQL. Minutes are whole UTC minutes (stable between
 * refreshes); the first is the first whole minute inside the window, so the
 * count stays at 1,440. Two queries: the scoped instance, then the buckets.
 */
export async function instanceResources(ctx: AccountContext, input: { instanceId: string; now?: Date }): Promise<InstanceResources> {
  const instance = await getInstance(ctx, input.instanceId);
  const now = input.now?.toISOString() ?? null;
  const average = (column: AnyColumn) => sql`round(avg(${column})::numeric, 2)::float8`;
  const averageBytes = (column: AnyColumn) => sql`round(avg(${column}))::float8`;
  // The newest capacity the pod reported in the bucket (a resize shows from the minute it happened).
  const latest = (column: AnyColumn) => sql`((array_agg(${column} order by ${resourceSamples.at} desc) filter (where ${column} is not null))[1])::float8`;
  const rows = await ctx.db.execute<{ from_ms: number; to_ms: number } & { [K in keyof Bucket]: number | null }>(sql`
    with w as (
      select t.to_at, t.to_at - make_interval(hours => ${WINDOW_HOURS}) as from_at,
             date_bin(make_interval(secs => ${BUCKET_SECONDS}), t.to_at - make_interval(hours => ${WINDOW_HOURS}), timestamptz 'epoch')
               + make_interval(secs => ${BUCKET_SECONDS}) as first_bucket
      from (select coalesce(${now}::timestamptz, now()) as to_at) t
    )
    select extract(epoch from w.from_at)::float8 * 1000 as from_ms, extract(epoch from w.to_at)::float8 * 1000 as to_ms, b.*
    from w left join lateral (
      select extract(epoch from date_bin(make_interval(secs => ${BUCKET_SECONDS}), ${resourceSamples.at}, timestamptz 'epoch'))::float8 * 1000 as "at",
             ${average(resourceSamples.cpuPercent)} as "cpuPercent",
             ${averageBytes(resourceSamples.memoryUsedBytes)} as "memoryUsedBytes",
             ${average(resourceSamples.gpuUtilPercent)} as "gpuUtilPercent",
             ${averageBytes(resourceSamples.vramUsedBytes)} as "vramUsedBytes",
             ${averageBytes(resourceSamples.diskUsedBytes)} as "diskUsedBytes",
             ${average(resourceSamples.gpuTemperatureC)} as "gpuTemperatureC",
             ${latest(resourceSamples.memoryTotalBytes)} as "memoryTotalBytes",
             ${latest(resourceSamples.vramTotalBytes)} as "vramTotalBytes",
             ${latest(resourceSamples.diskTotalBytes)} as "diskTotalBytes"
      from ${resourceSamples}
      where ${resourceSamples.instanceId} = ${instance.id} and ${resourceSamples.at} >= w.first_bucket and ${resourceSamples.at} <= w.to_at
      group by 1
    ) b on true
    order by b."at"`);
  const [first] = rows;
  // The left join gives one all-null row when the window holds no sample.
  const buckets = rows.filter((row) => row.at !== null) as Bucket[];
  return {
    instanceId: instance.id,
    from: new Date(first!.from_ms).toISOString(),
    to: new Date(first!.to_ms).toISOString(),
    series: resourceSignals.map((signal) => seriesOf(buckets, signal)),
  };
}

/**
 * A signal's points: its minute averages, with one null point at the first
 * minute of every stretch without a reading between two readings — the pod
 * was not running (no run, so no sample) or did not report — so a chart
 * draws a gap there, never a line across it. A gap is thus a whole minute
 * without a sample (12 of the agent's 5 s samples): a shorter silence is
 * below the chart's resolution and has no minute of its own to be drawn in.
 * A signal with no reading at all is `reported: false` with no points, so
 * a pod without a GPU shows "not reported", never zeros.
 */
function seriesOf(buckets: Bucket[], signal: ResourceSignal): ResourceSeries {
  const points: ResourceSeries["points"] = [];
  let previous: number | null = null;
  for (const bucket of buckets) {
    const value = bucket[signal];
    if (value === null) continue;
    if (previous !== null && bucket.at - previous > BUCKET_MS) points.push([new Date(previous + BUCKET_MS).toISOString(), null]);
    points.push([new Date(bucket.at).toISOString(), value]);
    previous = bucket.at;
  }
  const total = totals[signal];
  const totalBytes = total ? (buckets.findLast((bucket) => bucket[total] !== null)?.[total] ?? null) : null;
  return { signal, reported: points.length > 0, totalBytes, points };
}

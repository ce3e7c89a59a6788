import { beforeEach, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import type { Job } from "pg-boss";
import type { Database } from "../../db/client";
import { instanceRuns } from "../../db/schema";
import { resolveCaller } from "../../src/auth/caller";
import { NotFoundError } from "../../src/errors";
import { newId } from "../../src/ids";
import { noJobQueue } from "../../src/jobs/queue";
import { createCallerFactory, router } from "../../src/trpc/init";
import { usageRouter } from "../../src/trpc/routers/usage";
import { pruneResourceSamples } from "../../src/usage/prune-samples";
import { instanceResources } from "../../src/usage/resources";
import type { ResourceSeries } from "../../src/usage/types";
import { pruneSamples } from "../../workers/prune-samples";
import { freshDatabase } from "../support/db";
import { expectTrpcError } from "../support/errors";
import { contextOf, insertInstanceRow, newApiKey, newUser, servicesFor, testConfig } from "../support/factories";

// Pruning deletes across every instance: its tests get a database of their own, emptied before each.
const { db } = await freshDatabase();
const pruning = (await freshDatabase()).db;

const GiB = 1024 ** 3;

/**
 * Samples every `every` seconds over [start, start + seconds), as the agent posts them: CPU is the
 * second of the minute (so a full minute averages 27.5), RAM and disk fixed, GPU fields null unless `gpu`.
 */
async function insertSamples(target: Database, instanceId: string, start: Date, seconds: number, options: { every?: number; gpu?: boolean } = {}) {
  const gpu = options.gpu ?? false;
  await target.execute(sql`
    insert into resource_samples (instance_id, at, cpu_percent, memory_used_bytes, memory_total_bytes, disk_used_bytes, disk_total_bytes,
                                  gpu_util_percent, vram_used_bytes, vram_total_bytes, gpu_temperature_c)
    select ${instanceId}, a.at, extract(second from a.at), ${2 * GiB}, ${16 * GiB}, ${10 * GiB}, ${100 * GiB},
           case when ${gpu} then 80 end, case when ${gpu} then ${20 * GiB}::bigint end, case when ${gpu} then ${24 * GiB}::bigint end, case when ${gpu} then 65 end
    from (select ${start.toISOString()}::timestamptz + make_interval(secs => s) as at from generate_series(0, ${seconds - 1}, ${options.every ?? 5}) s) a`);
}

const minutes = (n: number) => n * 60_000;
const seriesOf = (all: ResourceSeries[], signal: ResourceSeries["signal"]) => all.find((s) => s.signal === signal)!;

async function ownInstance() {
  const user = await newUser(db);
  const ctx = await contextOf(db, user);
  const instanceId = await insertInstanceRow(db, { accountId: user.accountId });
  return { user, ctx, instanceId };
}

describe("instance resources", () => {
  test("a pod without a GPU: CPU, RAM and disk averaged per minute, every GPU signal 'not reported' with no points", async () => {
    const { ctx, instanceId } = await ownInstance();
    const now = new Date("2030-06-01T12:00:30Z");
    await insertSamples(db, instanceId, new Date(now.getTime() - minutes(30)), 30 * 60);

    const resources = await instanceResources(ctx, { instanceId, now });
    expect(resources).toMatchObject({ instanceId, from: "2030-05-31T12:00:30.000Z", to: "2030-06-01T12:00:30.000Z" });
    expect(resources.series.map((s) => s.signal)).toEqual([
      "cpuPercent",
      "memoryUsedBytes",
      "gpuUtilPercent",
      "vramUsedBytes",
      "diskUsedBytes",
      "gpuTemperatureC",
    ]);
    for (const signal of ["gpuUtilPercent", "vramUsedBytes", "gpuTemperatureC"] as const) {
      expect(seriesOf(resources.series, signal)).toEqual({ signal, reported: false, totalBytes: null, points: [] });
    }
    // 11:30:30 to 12:00:25: the minutes 11:30 (half) to 12:00 (half), each averaged, no gap.
    const cpu = seriesOf(resources.series, "cpuPercent");
    expect(cpu).toMatchObject({ reported: true, totalBytes: null });
    expect(cpu.points).toHaveLength(31);
    expect(cpu.points[0]).toEqual(["2030-06-01T11:30:00.000Z", 42.5]);
    expect(cpu.points[1]).toEqual(["2030-06-01T11:31:00.000Z", 27.5]);
    expect(cpu.points.at(-1)).toEqual(["2030-06-01T12:00:00.000Z", 12.5]);
    expect(seriesOf(resources.series, "memoryUsedBytes")).toMatchObject({ reported: true, totalBytes: 16 * GiB });
    expect(seriesOf(resources.series, "memoryUsedBytes").points.every(([, v]) => v === 2 * GiB)).toBe(true);
    expect(seriesOf(resources.series, "diskUsedBytes")).toMatchObject({ reported: true, totalBytes: 100 * GiB });
  });

  test("ten minutes stopped between two runs: one null point between the runs' points, and nowhere else", async () => {
    const { ctx, instanceId } = await ownInstance();
    const now = new Date("2030-06-01T12:00:00Z");
    const at = (minutesAgo: number) => new Date(now.getTime() - minutes(minutesAgo));
    await db.insert(instanceRuns).values([
      { id: newId("run"), instanceId, number: 1, runningAt: at(40), endedAt: at(20), endedBecause: "stopped" },
      { id: newId("run"), instanceId, number: 2, runningAt: at(10), lastHeartbeatAt: now },
    ]);
    await insertSamples(db, instanceId, at(40), 20 * 60, { gpu: true });
    await insertSamples(db, instanceId, at(10), 10 * 60, { gpu: true });

    const { series } = await instanceResources(ctx, { instanceId, now });
    for (const s of series) {
      expect(s.reported).toBe(true);
      const nulls = s.points.filter(([, v]) => v === null);
      expect(nulls).toEqual([["2030-06-01T11:40:00.000Z", null]]);
      expect(s.points).toHaveLength(20 + 1 + 10);
      const gap = s.points.findIndex(([, v]) => v === null);
      expect(s.points[gap - 1]![0]).toBe("2030-06-01T11:39:00.000Z");
      expect(s.points[gap + 1]![0]).toBe("2030-06-01T11:50:00.000Z");
      const times = s.points.map(([t]) => Date.parse(t));
      expect(times).toEqual([...times].sort((a, b) => a - b));
    }
    expect(seriesOf(series, "vramUsedBytes").totalBytes).toBe(24 * GiB);
    expect(seriesOf(series, "gpuTemperatureC").points[0]).toEqual(["2030-06-01T11:20:00.000Z", 65]);
  });

  test("a day and more of 5 s samples comes back as at most 1,440 points per series, all inside the window", async () => {
    for (const now of [new Date("2030-06-01T12:00:00Z"), new Date("2030-06-01T12:00:17.250Z")]) {
      const { ctx, instanceId } = await ownInstance();
      // 25 h of samples up to and including `now`: the hour before the window is left out.
      await insertSamples(db, instanceId, new Date(now.getTime() - minutes(25 * 60)), 25 * 3600 + 1, { gpu: true });
      const resources = await instanceResources(ctx, { instanceId, now });
      for (const s of resources.series) {
        expect(s.points).toHaveLength(1440);
        expect(s.points.every(([, v]) => v !== null)).toBe(true);
        expect(Date.parse(s.points[0]![0])).toBeGreaterThanOrEqual(Date.parse(resources.from));
        expect(Date.parse(s.points.at(-1)![0])).toBeLessThanOrEqual(Date.parse(resources.to));
      }
    }
  });

  test("an instance with no sample in the window: every signal not reported", async () => {
    const { ctx, instanceId } = await ownInstance();
    await insertSamples(db, instanceId, new Date(Date.now() - minutes(26 * 60)), 600);
    const resources = await instanceResources(ctx, { instanceId });
    expect(resources.series.every((s) => !s.reported && s.points.length === 0)).toBe(true);
    // Without `now`, the window ends at the database's now().
    expect(Math.abs(Date.parse(resources.to) - Date.now())).toBeLessThan(60_000);
  });

  test("another account's instance answers like a missing one", async () => {
    const { instanceId } = await ownInstance();
    await insertSamples(db, instanceId, new Date(Date.now() - minutes(5)), 300, { gpu: true });
    const stranger = await newUser(db);
    const strangerCtx = await contextOf(db, stranger);
    await expect(instanceResources(strangerCtx, { instanceId })).rejects.toThrow(NotFoundError);
    await expect(instanceResources(strangerCtx, { instanceId })).rejects.toThrow(`Instance '${instanceId}' was not found.`);
    await expect(instanceResources(strangerCtx, { instanceId: "inst_missing" })).rejects.toThrow(NotFoundError);
  });
});

describe("usage.resources", () => {
  // The usage router is wired elsewhere; the procedure is mounted at the same path, so scopes apply as they will there.
  const callerFactory = createCallerFactory(router({ usage: usageRouter }));
  const call = async (token: string) =>
    callerFactory({
      ...servicesFor(db),
      providers: [],
      requestId: "req_test",
      caller: await resolveCaller(db, new Request("http://localhost:3000/trpc", { headers: { authorization: `Bearer ${token}` } })),
      ip: "127.0.0.1",
      origin: null,
      allowedOrigins: ["http://localhost:3000"],
      resHeaders: new Headers(),
    });

  test("the owner and a 'read' key get the series; another account and an 'inference' key do not", async () => {
    const { user, instanceId } = await ownInstance();
    await insertSamples(db, instanceId, new Date(Date.now() - minutes(5)), 300);
    const owner = await (await call(user.sessionToken)).usage.resources({ instanceId });
    expect(seriesOf(owner.series, "cpuPercent").reported).toBe(true);
    expect(seriesOf(owner.series, "gpuUtilPercent").reported).toBe(false);

    const readKey = await newApiKey(db, user, { scope: "read" });
    expect((await (await call(readKey.secret)).usage.resources({ instanceId })).instanceId).toBe(instanceId);
    const inferenceKey = await newApiKey(db, user, { scope: "inference" });
    await expectTrpcError((await call(inferenceKey.secret)).usage.resources({ instanceId }), "FORBIDDEN");

    const stranger = await newUser(db);
    await expectTrpcError((await call(stranger.sessionToken)).usage.resources({ instanceId }), "NOT_FOUND");
  });
});

describe("pruning resource samples", () => {
  beforeEach(async () => {
    await pruning.execute(sql`delete from resource_samples`);
  });

  const now = new Date("2030-06-01T12:00:00Z");
  /** Rows at `offsets` (PostgreSQL intervals) from the cutoff, one per offset; returns their ids. */
  async function rowsAroundCutoff(instanceId: string, offsets: string[]): Promise<number[]> {
    const rows = await pruning.execute<{ id: number }>(sql`
      insert into resource_samples (instance_id, at, cpu_percent)
      select ${instanceId}, ${now.toISOString()}::timestamptz - interval '24 hours' + o::interval, 1
      from jsonb_array_elements_text(${JSON.stringify(offsets)}::jsonb) o
      returning id`);
    return rows.map((row) => Number(row.id));
  }
  const remaining = async () =>
    (await pruning.execute<{ id: number }>(sql`select id from resource_samples order by id`)).map((row) => Number(row.id)).sort((a, b) => a - b);

  async function prunableInstance() {
    const user = await newUser(pruning);
    return insertInstanceRow(pruning, { accountId: user.accountId });
  }

  test("removes exactly the samples older than the cutoff, in batches, and none at or after it", async () => {
    const instanceId = await prunableInstance();
    const old = await rowsAroundCutoff(instanceId, ["-1 microsecond", "-1 second", "-3 hours", ...Array.from({ length: 20 }, (_, i) => `-${i + 2} minutes`)]);
    const kept = await rowsAroundCutoff(instanceId, ["0", "1 microsecond", "1 minute", "23 hours 59 minutes", "24 hours"]);
    expect(old).toHaveLength(23);

    const report = await pruneResourceSamples(pruning, { retentionHours: 24, now, batchSize: 5 });
    // 5 + 5 + 5 + 5 + 3: the short fifth batch ends the run.
    expect(report).toEqual({ cutoff: "2030-05-31T12:00:00.000000Z", deleted: 23, batches: 5, done: true });
    expect(await remaining()).toEqual(kept.sort((a, b) => a - b));

    // Again: nothing left to do.
    expect(await pruneResourceSamples(pruning, { retentionHours: 24, now, batchSize: 5 })).toMatchObject({ deleted: 0, batches: 1, done: true });
    expect(await remaining()).toEqual(kept);
  });

  test("a run stops at its batch cap and the next one finishes", async () => {
    const instanceId = await prunableInstance();
    await rowsAroundCutoff(
      instanceId,
      Array.from({ length: 12 }, (_, i) => `-${i + 1} seconds`),
    );
    const kept = await rowsAroundCutoff(instanceId, ["1 second"]);
    expect(await pruneResourceSamples(pruning, { retentionHours: 24, now, batchSize: 5, maxBatches: 2 })).toMatchObject({
      deleted: 10,
      batches: 2,
      done: false,
    });
    expect(await pruneResourceSamples(pruning, { retentionHours: 24, now, batchSize: 5, maxBatches: 2 })).toMatchObject({ deleted: 2, batches: 1, done: true });
    expect(await remaining()).toEqual(kept);
  });

  test("several pruners at once share the rows without errors or leftovers", async () => {
    const instances = await Promise.all([prunableInstance(), prunableInstance()]);
    for (const instanceId of instances) await insertSamples(pruning, instanceId, new Date(now.getTime() - minutes(26 * 60)), 2 * 3600, { every: 2 });
    const cutoffSql = sql`${now.toISOString()}::timestamptz - interval '24 hours'`;
    const [counts] = await pruning.execute<{ old: number; recent: number }>(
      sql`select count(*) filter (where at < ${cutoffSql})::int as old, count(*) filter (where at >= ${cutoffSql})::int as recent from resource_samples`,
    );
    expect(counts!.old).toBe(7200);
    expect(counts!.recent).toBe(0);
    await rowsAroundCutoff(instances[0], ["0", "5 seconds"]);

    const reports = await Promise.all(Array.from({ length: 4 }, () => pruneResourceSamples(pruning, { retentionHours: 24, now, batchSize: 100 })));
    expect(reports.reduce((sum, r) => sum + r.deleted, 0)).toBe(7200);
    expect(reports.every((r) => r.done)).toBe(true);
    expect(reports.filter((r) => r.deleted > 0).length).toBeGreaterThan(1);
    expect(await remaining()).toHaveLength(2);
  });

  test("a pruner never waits on a row someone else holds: it leaves that row to the next run", async () => {
    const instanceId = await prunableInstance();
    const [held, ...others] = await rowsAroundCutoff(instanceId, ["-1 hour", "-2 hours", "-3 hours", "-4 hours"]);
    await pruning.transaction(async (tx) => {
      await tx.execute(sql`select 1 from resource_samples where id = ${held} for update`);
      const report = await pruneResourceSamples(pruning, { retentionHours: 24, now, batchSize: 2 });
      expect(report).toMatchObject({ deleted: others.length, done: true });
    });
    expect(await remaining()).toEqual([held!]);
    expect(await pruneResourceSamples(pruning, { retentionHours: 24, now, batchSize: 2 })).toMatchObject({ deleted: 1 });
    expect(await remaining()).toEqual([]);
  });

  test("the scheduled job prunes by RESOURCE_SAMPLE_RETENTION_HOURS from the database's clock, every 5 minutes", async () => {
    expect(pruneSamples.schedule).toBe("*/5 * * * *");
    expect(testConfig.RESOURCE_SAMPLE_RETENTION_HOURS).toBe(24);
    const instanceId = await prunableInstance();
    await pruning.execute(sql`
      insert into resource_samples (instance_id, at, cpu_percent)
      values (${instanceId}, now() - interval '25 hours', 1), (${instanceId}, now() - interval '23 hours', 2)`);
    const services = { db: pruning, config: testConfig, jobs: noJobQueue, providers: [] };
    // The handler reads nothing from its job.
    expect(await pruneSamples.handle({}, services, {} as Job<Record<string, never>>)).toMatchObject({ deleted: 1, done: true });
    const [left] = await pruning.execute<{ cpu: number }>(sql`select cpu_percent::float8 as cpu from resource_samples`);
    expect(left!.cpu).toBe(2);
  });
});

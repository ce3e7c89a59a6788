import { afterAll, describe, expect, test } from "bun:test";
import { createQueue, enqueue, jobQueue } from "../../src/jobs/queue";
import { checkRegistry, registerWorkers, registry } from "../../workers/registry";
import { freshDatabase } from "../support/db";
import { testConfig } from "../support/factories";

describe("job registry", () => {
  test("a job name without a handler refuses to start", () => {
    expect(() => checkRegistry({}, ["system.ping"])).toThrow("jobs without a handler: system.ping");
    const { "instances.stop": _, ...missingStop } = registry;
    expect(() => checkRegistry(missingStop)).toThrow("jobs without a handler: instances.stop");
  });

  test("a handler for an unknown or another job's name refuses to start", () => {
    expect(() => checkRegistry({ ...registry, "system.pong": registry["system.ping"] })).toThrow("unknown jobs: system.pong");
  });

  test("the shipped registry is complete", () => {
    expect(() => checkRegistry(registry)).not.toThrow();
  });
});

describe("pg-boss round trip", async () => {
  const database = await freshDatabase();
  const boss = createQueue(database.url, { spies: true });
  await boss.start();
  await registerWorkers(boss, { db: database.db, config: testConfig, jobs: jobQueue(boss), providers: [] });
  afterAll(() => boss.stop({ graceful: false }));

  test("a ping sent to the queue is worked and answered", async () => {
    const id = await enqueue(boss, "system.ping", { nonce: "n-42" });
    const job = await boss.getSpy("system.ping").waitForJobWithId(id!, "completed");
    expect(job.output).toEqual({ pong: "n-42" });
  });
});

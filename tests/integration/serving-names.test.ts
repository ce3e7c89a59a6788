/**
 * Serving names held by failures: a launch that failed before it ever served does not keep the name from the
 * next launch (issue 14, item 3); one that served keeps it; a deleted instance's name is free again; and the
 * failure, started again, serves under a free name.
 */
import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { instanceRuns, instances } from "../../db/schema";
import { newId } from "../../src/ids";
import { referenceLaunch, startCompute } from "../support/compute";
import { expectTrpcError } from "../support/errors";
import { insertInstanceRow } from "../support/factories";

const compute = await startCompute();
const { db } = compute;
const MODEL_NAME = "qwen2.5-0.5b-instruct";

/** A failed instance of the same model holding `servingName`, whose one run reached running or never did. */
async function failedInstance(accountId: string, servingName: string, served: boolean) {
  const id = newId("instance");
  const runId = newId("run");
  await insertInstanceRow(db, { id, accountId, name: `failed-${servingName}`, state: "failed", servingName, hfRepo: referenceLaunch.hfRepo });
  await db.insert(instanceRuns).values({ id: runId, instanceId: id, number: 1, runningAt: served ? new Date(Date.now() - 60_000) : null, endedAt: new Date() });
  return id;
}

async function servingNameOf(id: string) {
  const [row] = await db.select({ servingName: instances.servingName }).from(instances).where(eq(instances.id, id));
  return row!.servingName;
}

describe("serving names held by failed instances", () => {
  test("a launch takes the name of a failure that never served, and says so; started again, the failure serves under a free name", async () => {
    const { user, api } = await compute.fundedUser();
    const failed = await failedInstance(user.accountId, MODEL_NAME, false);

    const launched = await api.instances.launch({ ...referenceLaunch });
    expect(launched.servingName).toBe(MODEL_NAME);
    expect(await servingNameOf(failed)).toBeNull();
    const detail = await api.instances.get({ id: launched.id });
    expect(detail.events[0]!.cause).toBe(
      `launched with the serving name '${MODEL_NAME}', taken from instance 'failed-${MODEL_NAME}', which failed without ever serving`,
    );

    const restarted = await api.instances.start({ id: failed });
    expect(restarted.servingName).toBe(`${MODEL_NAME}-2`);
    const again = await api.instances.get({ id: failed });
    expect(again.events.at(-1)!.cause).toContain(`serving as '${MODEL_NAME}-2' (its earlier name went to another instance)`);
  });

  test("an explicit name held by a failure that never served is taken too; one that served keeps its name", async () => {
    const { user, api } = await compute.fundedUser();
    const unserved = await failedInstance(user.accountId, "nightly", false);
    const served = await failedInstance(user.accountId, "daily", true);

    expect((await api.instances.launch({ ...referenceLaunch, servingName: "nightly" })).servingName).toBe("nightly");
    expect(await servingNameOf(unserved)).toBeNull();
    await expectTrpcError(api.instances.launch({ ...referenceLaunch, servingName: "daily" }), "CONFLICT");
    expect(await servingNameOf(served)).toBe("daily");
  });

  test("a deleted instance's name is the default again, not '-2'", async () => {
    const { api } = await compute.fundedUser();
    const first = await api.instances.launch({ ...referenceLaunch });
    await api.instances.delete({ id: first.id });
    expect((await api.instances.launch({ ...referenceLaunch })).servingName).toBe(MODEL_NAME);
  });
});

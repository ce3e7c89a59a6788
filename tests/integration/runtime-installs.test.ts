import { afterAll, expect, test } from "bun:test";
import { createQueue, jobQueue } from "../../src/jobs/queue";
import { freshDatabase } from "../support/db";
import { expectTrpcError } from "../support/errors";
import { newUser, trpc } from "../support/factories";

const database = await freshDatabase();
// A queue with no workers: the install job waits in it, which is what these tests look at.
const boss = createQueue(database.url, { sendOnly: true });
await boss.start();
afterAll(() => boss.stop({ graceful: false }));
const jobs = jobQueue(boss);

test("an owner starts a llama.cpp build: it is queued once and shows as installing", async () => {
  const owner = await newUser(database.db);
  const api = await trpc(database.db, owner.sessionToken, { jobs });
  const install = await api.runtimes.install({ runtimeId: "llama.cpp" });
  expect(install).toMatchObject({ runtimeId: "llama.cpp", state: "installing", phase: "queued" });
  const [queued] = await boss.findJobs("runtimes.install");
  expect(queued?.data).toEqual({ runtimeId: "llama.cpp" });

  const again = await expectTrpcError(api.runtimes.install({ runtimeId: "llama.cpp" }), "CONFLICT");
  expect(again.message).toContain("already being installed");
  expect(await boss.findJobs("runtimes.install")).toHaveLength(1);

  const list = await api.runtimes.list();
  expect(list.find((r) => r.id === "llama.cpp")).toMatchObject({ installable: true, install: { state: "installing" } });
  expect(list.find((r) => r.id === "vllm")).toMatchObject({ installable: false, install: null, servedBy: "QDivZero reference runtime (stand-in)" });
});

test("runtimes that cannot be built here are refused, and only owners may build", async () => {
  const owner = await newUser(database.db);
  await expectTrpcError((await trpc(database.db, owner.sessionToken, { jobs })).runtimes.install({ runtimeId: "vllm" }), "BAD_REQUEST");
  const { secret } = await (await trpc(database.db, owner.sessionToken)).apiKeys.create({ name: "k" });
  await expectTrpcError((await trpc(database.db, secret, { jobs })).runtimes.install({ runtimeId: "llama.cpp" }), "FORBIDDEN");
});

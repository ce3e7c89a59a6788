/**
 * The instance REST routes against a real platform (api, workers, local pods): every route's happy path, bad
 * input, another account's id, a key without the scope, and a member beside the owner. Every answer is checked
 * against the platform's own OpenAPI document.
 */
import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { instanceEvents, launchKeys } from "../../db/schema";
import { referenceLaunch, startCompute, waitFor } from "../support/compute";
import { accountWithKeysAndMember, trpc } from "../support/factories";
import { restClient } from "../support/rest-openapi";

const compute = await startCompute();
const document = await (await fetch(`${compute.url}/openapi.json`)).json();
const { call } = restClient(document, (request) => fetch(request), compute.url);

/** An owner with money, keys of every scope, and a member of the same account (signed in: a session token). */
async function account() {
  const { user } = await compute.fundedUser(50_000);
  return accountWithKeysAndMember(compute.db, user);
}

const launch = (servingName: string) => ({ ...referenceLaunch, servingName });

async function launched(token: string, servingName: string) {
  const { status, body } = await call("POST", "/v1/instances", { token, body: launch(servingName) });
  expect(status).toBe(201);
  return body as { id: string; state: string; servingName: string };
}

const running = (token: string, id: string) =>
  waitFor(
    async () => (await call("GET", "/v1/instances/{id}", { token, id })).body,
    (instance) => instance.state === "running",
    30_000,
    `${id} running`,
  );

describe("launch", () => {
  test("an Idempotency-Key makes a retried launch answer the first instance, and never a second", async () => {
    const owner = await account();
    const headers = { "idempotency-key": "launch-0001" };
    const first = await call("POST", "/v1/instances", { token: owner.full, body: launch("idem"), headers });
    expect(first.status).toBe(201);
    const again = await call("POST", "/v1/instances", { token: owner.full, body: launch("idem"), headers });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.id).toBe(first.body.id);

    // Two attempts racing with one key: one instance between them.
    const raced = await Promise.all(
      [1, 2].map(() => call("POST", "/v1/instances", { token: owner.member, body: launch("raced"), headers: { "idempotency-key": "launch-0002" } })),
    );
    expect(raced.map((answer) => answer.status).sort()).toEqual([200, 201]);
    expect(raced[0]!.body.id).toBe(raced[1]!.body.id);
    const list = await call("GET", "/v1/instances", { token: owner.read });
    expect(list.body.data.filter((i: { servingName: string }) => i.servingName === "raced")).toHaveLength(1);

    // The same key for another launch is refused, naming the header.
    const other = await call("POST", "/v1/instances", { token: owner.full, body: launch("other"), headers });
    expect(other.status).toBe(409);
    expect(other.body.error.field).toBe("Idempotency-Key");
    // Another account's same key is its own.
    const stranger = await account();
    const theirs = await call("POST", "/v1/instances", { token: stranger.full, body: launch("idem"), headers });
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(first.body.id);
    const bad = await call("POST", "/v1/instances", { token: owner.full, body: launch("x"), headers: { "idempotency-key": "with space" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe("Idempotency-Key");

    for (const id of [first.body.id, raced[0]!.body.id]) await call("DELETE", "/v1/instances/{id}", { token: owner.full, id });
    await call("DELETE", "/v1/instances/{id}", { token: stranger.full, id: theirs.body.id });
  }, 60_000);

  test("bad input is a 400 naming the field; a read key is a 403 naming the scope; no key a 401", async () => {
    const owner = await account();
    const cases: [unknown, string][] = [
      [{ ...launch("a"), gpuCount: 0 }, "gpuCount"],
      [{ ...launch("a"), servingName: "Not OK" }, "servingName"],
      [{ hfRepo: "x/y" }, "runtimeId"],
      [{ ...launch("a"), gpuPreferences: ["H999"] }, "gpuPreferences"],
    ];
    for (const [body, field] of cases) {
      const answer = await call("POST", "/v1/instances", { token: owner.full, body });
      expect({ status: answer.status, field: answer.body.error.field }).toEqual({ status: 400, field });
    }
    expect((await call("POST", "/v1/instances", { token: owner.full, body: "{oops" })).status).toBe(400);
    const refused = await call("POST", "/v1/instances", { token: owner.read, body: launch("a") });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain("needs 'full'");
    const inference = await call("GET", "/v1/instances", { token: owner.inference });
    expect(inference.status).toBe(403);
    expect(inference.body.error.message).toContain("needs 'read' or 'full'");
    expect((await call("GET", "/v1/instances", { token: null })).status).toBe(401);
  });
});

describe("an instance's life through REST", () => {
  test("launch, list, get, rentals alias, metered, events, logs, patch, stop, start, bulk stop, delete", async () => {
    const owner = await account();
    const created = await launched(owner.full, "walk");
    const detail = await running(owner.read, created.id);
    expect(detail.servingName).toBe("walk");
    expect((await call("GET", "/v1/rentals/{id}", { token: owner.read, id: created.id })).body).toEqual(detail);

    // The list pages with a cursor, and filters by state.
    const second = await launched(owner.member, "walk-two");
    const page1 = await call("GET", "/v1/instances", { token: owner.read, query: { limit: 1 } });
    expect(page1.body.data.map((i: { id: string }) => i.id)).toEqual([second.id]);
    const page2 = await call("GET", "/v1/instances", { token: owner.read, query: { limit: 1, cursor: page1.body.next_cursor } });
    expect(page2.body).toMatchObject({ data: [{ id: created.id }], next_cursor: null });
    const runningOnly = await call("GET", "/v1/instances", { token: owner.read, query: { state: "running" } });
    expect(runningOnly.body.data.every((i: { state: string }) => i.state === "running")).toBe(true);
    expect((await call("GET", "/v1/instances", { token: owner.read, query: { state: "asleep" } })).body.error.field).toBe("state");
    expect((await call("GET", "/v1/instances", { token: owner.read, query: { cursor: "nope" } })).body.error.field).toBe("cursor");
    expect((await call("GET", "/v1/instances", { token: owner.read, query: { limit: 0 } })).body.error.field).toBe("limit");

    // Metered: the same body as the tRPC procedure behind `qdz instances show --metered`.
    const metered = await call("GET", "/v1/instances/{id}/metered", { token: owner.read, id: created.id });
    const api = await trpc(compute.db, owner.user.sessionToken);
    expect(metered.body.instance_id).toBe(created.id);
    expect(JSON.parse(JSON.stringify(await api.instances.metered({ id: created.id })))).toMatchObject({ instance_id: created.id, runs: [{ number: 1 }] });

    const events = await call("GET", "/v1/instances/{id}/events", { token: owner.read, id: created.id, query: { limit: 1 } });
    expect(events.body.data).toMatchObject([{ from: null, to: "pending" }]);
    const rest = await call("GET", "/v1/instances/{id}/events", { token: owner.read, id: created.id, query: { cursor: events.body.next_cursor } });
    expect(rest.body.data.at(-1)).toMatchObject({ to: "running" });
    expect((await call("GET", "/v1/instances/{id}/events", { token: owner.read, id: created.id, query: { cursor: "x" } })).body.error.field).toBe("cursor");

    const logs = await call("GET", "/v1/instances/{id}/logs", { token: owner.read, id: created.id, query: { tailLines: 50 } });
    expect(logs.body).toMatchObject({ available: true, runId: expect.any(String) });
    expect((await call("GET", "/v1/instances/{id}/logs", { token: owner.read, id: created.id, query: { tailLines: 9999 } })).body.error.field).toBe(
      "tailLines",
    );

    const renamed = await call("PATCH", "/v1/instances/{id}", { token: owner.member, id: created.id, body: { name: "Walk" } });
    expect(renamed.body).toMatchObject({ id: created.id, name: "Walk" });
    expect((await call("PATCH", "/v1/instances/{id}", { token: owner.full, id: created.id, body: { servingName: "BAD NAME" } })).body.error.field).toBe(
      "servingName",
    );
    expect((await call("PATCH", "/v1/instances/{id}", { token: owner.read, id: created.id, body: { name: "x" } })).status).toBe(403);

    const stopped = await call("POST", "/v1/instances/{id}/stop", { token: owner.full, id: created.id });
    expect(stopped.body.state).toBe("stopping");
    const twice = await call("POST", "/v1/rentals/{id}/stop", { token: owner.full, id: created.id });
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toMatch(/stopping/);
    await waitFor(
      async () => (await call("GET", "/v1/instances/{id}", { token: owner.read, id: created.id })).body.state,
      (state) => state === "stopped",
      20_000,
    );
    const started = await call("POST", "/v1/instances/{id}/start", { token: owner.member, id: created.id });
    expect(started.body.state).toBe("pending");
    expect((await call("POST", "/v1/instances/{id}/start", { token: owner.full, id: created.id })).status).toBe(409);

    const bulk = await call("POST", "/v1/instances/stop", { token: owner.full, body: { ids: [created.id, second.id] } });
    expect(bulk.body.changed.sort()).toEqual([created.id, second.id].sort());
    expect((await call("POST", "/v1/instances/stop", { token: owner.full, body: { ids: [] } })).body.error.field).toBe("ids");

    for (const id of [created.id, second.id]) {
      expect((await call("DELETE", "/v1/instances/{id}", { token: owner.full, id })).body).toEqual({ id, deleted: true });
    }
    expect((await call("GET", "/v1/instances/{id}", { token: owner.read, id: created.id })).status).toBe(404);
  }, 90_000);

  test("another account's id answers exactly as a missing one, on every instance route", async () => {
    const owner = await account();
    const stranger = await account();
    const theirs = await launched(stranger.full, "theirs");
    const routes: [string, string, unknown?][] = [
      ["GET", "/v1/instances/{id}"],
      ["GET", "/v1/rentals/{id}"],
      ["PATCH", "/v1/instances/{id}", { name: "mine" }],
      ["POST", "/v1/instances/{id}/start"],
      ["POST", "/v1/instances/{id}/stop"],
      ["POST", "/v1/rentals/{id}/stop"],
      ["DELETE", "/v1/instances/{id}"],
      ["GET", "/v1/instances/{id}/metered"],
      ["GET", "/v1/instances/{id}/events"],
      ["GET", "/v1/instances/{id}/logs"],
      ["GET", "/v1/instances/{id}/usage"],
      ["GET", "/v1/instances/{id}/schedules"],
      ["POST", "/v1/instances/{id}/schedules", { rules: [{ action: "stop", cron: "0 20 * * *", timeZone: "UTC" }] }],
    ];
    for (const [method, path, body] of routes) {
      const foreign = await call(method, path, { token: owner.full, id: theirs.id, body });
      const missing = await call(method, path, { token: owner.full, id: "inst_doesnotexist00", body });
      expect({ route: `${method} ${path}`, status: foreign.status }).toEqual({ route: `${method} ${path}`, status: 404 });
      expect(foreign.body.error.message.replace(theirs.id, "ID")).toBe(missing.body.error.message.replace("inst_doesnotexist00", "ID"));
    }
    const bulk = await call("POST", "/v1/instances/stop", { token: owner.full, body: { ids: [theirs.id] } });
    expect(bulk.status).toBe(404);
    // Nothing of theirs moved.
    expect((await call("GET", "/v1/instances/{id}", { token: stranger.read, id: theirs.id })).body.name).toBeNull();
    await call("DELETE", "/v1/instances/{id}", { token: stranger.full, id: theirs.id });
  }, 60_000);
});

describe("validate", () => {
  test("POST /v1/models/validate checks the model and live capacity and creates nothing", async () => {
    const owner = await account();
    const check = await call("POST", "/v1/models/validate", { token: owner.read, body: { ...referenceLaunch, gpuPreferences: [] } });
    expect(check.status).toBe(200);
    expect(check.body).toMatchObject({ modelClass: expect.any(String), placement: { placeable: true } });
    expect((await call("GET", "/v1/instances", { token: owner.read })).body.data).toEqual([]);
    const bad = await call("POST", "/v1/models/validate", { token: owner.read, body: { ...referenceLaunch, runtimeId: undefined } });
    expect({ status: bad.status, field: bad.body.error.field }).toEqual({ status: 400, field: "runtimeId" });
    expect((await call("POST", "/v1/models/validate", { token: owner.inference, body: referenceLaunch })).status).toBe(403);
    // The OpenAI routes beside it are untouched.
    const models = await fetch(`${compute.url}/v1/models`, { headers: { authorization: `Bearer ${owner.inference}` } });
    expect((await models.json()).object).toBe("list");
  });
});

describe("the launch's key is kept with the account", () => {
  test("and nowhere a secret: the Hugging Face token is not in it", async () => {
    const owner = await account();
    const answer = await call("POST", "/v1/instances", {
      token: owner.full,
      body: { ...launch("keyed"), hfToken: "hf_secret_token" },
      headers: { "idempotency-key": "k-1" },
    });
    const keys = await compute.db.select().from(launchKeys).where(eq(launchKeys.instanceId, answer.body.id));
    expect(keys).toEqual([expect.objectContaining({ key: "k-1", requestHash: expect.stringMatching(/^[0-9a-f]{64}$/) })]);
    const events = await compute.db.select().from(instanceEvents).where(eq(instanceEvents.instanceId, answer.body.id));
    expect(JSON.stringify([keys, events])).not.toContain("hf_secret");
    await call("DELETE", "/v1/instances/{id}", { token: owner.full, id: answer.body.id });
  });
});

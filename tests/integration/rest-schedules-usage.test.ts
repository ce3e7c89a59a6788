/**
 * The schedule, usage and key REST routes, and what every REST route shares: the per-caller rate limit's 429
 * with Retry-After and the cross-site rule for a session's writes. Answers are checked against the document.
 */
import { describe, expect, test } from "bun:test";
import { createApp } from "../../server/app";
import { loadConfig } from "../../src/config";
import { freshDatabase } from "../support/db";
import { accountWithKeysAndMember, insertInstanceRow, newUser, testConfig } from "../support/factories";
import { type RestAnswer, restClient } from "../support/rest-openapi";

const { db } = await freshDatabase();
const app = createApp({ db, config: testConfig });
const document = await (await app.handle(new Request("http://localhost:3000/openapi.json"))).json();
const { call } = restClient(document, (request) => app.handle(request));

async function account() {
  const user = await newUser(db);
  const instanceId = await insertInstanceRow(db, { accountId: user.accountId, state: "stopped", name: "sched" });
  return { ...(await accountWithKeysAndMember(db, user)), instanceId };
}

const weekdays = { action: "start", cron: "0 8 * * 1-5", timeZone: "Europe/Paris" };

describe("schedules", () => {
  test("create, list, update, history and delete; owner and member alike", async () => {
    const owner = await account();
    const created = await call("POST", "/v1/instances/{id}/schedules", {
      token: owner.full,
      id: owner.instanceId,
      body: { rules: [weekdays, { action: "stop", cron: "0 20 * * 1-5", timeZone: "Europe/Paris" }] },
    });
    expect(created.status).toBe(201);
    expect(created.body.data.map((r: { action: string }) => r.action)).toEqual(["start", "stop"]);
    expect(created.body.data[0].upcoming).toHaveLength(3);
    const listed = await call("GET", "/v1/instances/{id}/schedules", { token: owner.member, id: owner.instanceId });
    expect(listed.body.data.map((r: { id: string }) => r.id)).toEqual(created.body.data.map((r: { id: string }) => r.id));

    const ruleId = created.body.data[0].id;
    const updated = await call("PATCH", "/v1/schedules/{id}", { token: owner.member, id: ruleId, body: { cron: "30 7 * * 1-5", enabled: false } });
    expect(updated.body).toMatchObject({ id: ruleId, cron: "30 7 * * 1-5", enabled: false, nextRunAt: null });
    const history = await call("GET", "/v1/instances/{id}/schedules/history", { token: owner.read, id: owner.instanceId, query: { limit: 5 } });
    expect(history.body).toEqual({ data: [], next_cursor: null });
    expect((await call("DELETE", "/v1/schedules/{id}", { token: owner.full, id: ruleId })).body).toEqual({ ok: true });
    expect((await call("GET", "/v1/instances/{id}/schedules", { token: owner.read, id: owner.instanceId })).body.data).toHaveLength(1);
  });

  test("bad input names the field; a read key cannot write; another account's rule is a 404 like a missing one", async () => {
    const owner = await account();
    const stranger = await account();
    const bad = await call("POST", "/v1/instances/{id}/schedules", {
      token: owner.full,
      id: owner.instanceId,
      body: { rules: [{ ...weekdays, cron: "99 * * * *" }] },
    });
    expect({ status: bad.status, field: bad.body.error.field }).toEqual({ status: 400, field: "cron" });
    // With several rules, the field says which one.
    const zone = await call("POST", "/v1/instances/{id}/schedules", {
      token: owner.full,
      id: owner.instanceId,
      body: { rules: [weekdays, { ...weekdays, timeZone: "Mars/Base" }] },
    });
    expect(zone.body.error.field).toBe("rules.1.timeZone");
    expect((await call("POST", "/v1/instances/{id}/schedules", { token: owner.full, id: owner.instanceId, body: { rules: [] } })).body.error.field).toBe(
      "rules",
    );
    expect(
      (await call("GET", "/v1/instances/{id}/schedules/history", { token: owner.read, id: owner.instanceId, query: { cursor: "x" } })).body.error.field,
    ).toBe("cursor");

    const readOnly = await call("POST", "/v1/instances/{id}/schedules", { token: owner.read, id: owner.instanceId, body: { rules: [weekdays] } });
    expect(readOnly.status).toBe(403);
    expect(readOnly.body.error.message).toContain("needs 'full'");
    expect((await call("GET", "/v1/instances/{id}/schedules", { token: owner.inference, id: owner.instanceId })).status).toBe(403);

    const theirs = (await call("POST", "/v1/instances/{id}/schedules", { token: stranger.full, id: stranger.instanceId, body: { rules: [weekdays] } })).body
      .data[0].id;
    for (const [method, body] of [
      ["PATCH", { enabled: false }],
      ["DELETE", undefined],
    ] as const) {
      const foreign = await call(method, "/v1/schedules/{id}", { token: owner.full, id: theirs, body });
      const missing = await call(method, "/v1/schedules/{id}", { token: owner.full, id: "rule_missing000000", body });
      expect(foreign.status).toBe(404);
      expect(foreign.body.error.message.replace(theirs, "ID")).toBe(missing.body.error.message.replace("rule_missing000000", "ID"));
    }
    expect((await call("GET", "/v1/instances/{id}/schedules/history", { token: owner.read, id: stranger.instanceId })).body).toEqual({
      data: [],
      next_cursor: null,
    });
  });
});

describe("usage and keys", () => {
  test("the account's and an instance's usage, in the same body as GET /billing/usage", async () => {
    const owner = await account();
    const mine = await call("GET", "/v1/usage", { token: owner.read, query: { range: "7d", time_zone: "Europe/Paris" } });
    expect(mine.body).toMatchObject({ range: "7d", time_zone: "Europe/Paris", top_instances: [] });
    const billing = await app.handle(
      new Request("http://localhost:3000/billing/usage?range=7d&time_zone=Europe/Paris", { headers: { authorization: `Bearer ${owner.read}` } }),
    );
    expect(await billing.json()).toEqual(mine.body);
    const one = await call("GET", "/v1/instances/{id}/usage", { token: owner.member, id: owner.instanceId, query: { range: "24h" } });
    expect(one.body).toMatchObject({ instance_id: owner.instanceId, range: "24h", time_zone: "UTC" });
    expect((await call("GET", "/v1/usage", { token: owner.read, query: { range: "1y" } })).body.error.field).toBe("range");
    expect((await call("GET", "/v1/usage", { token: owner.read, query: { time_zone: "Nowhere/City" } })).body.error.field).toBe("time_zone");
    expect((await call("GET", "/v1/usage", { token: owner.inference })).status).toBe(403);
  });

  test("GET /v1/keys lists the account's keys without secrets; a key cannot make or revoke keys here", async () => {
    const owner = await account();
    const keys = await call("GET", "/v1/keys", { token: owner.read });
    // The owner's three and the member's one.
    expect(keys.body.data.map((k: { scope: string }) => k.scope).sort()).toEqual(["full", "full", "inference", "read"]);
    expect(JSON.stringify(keys.body)).not.toContain(owner.full);
    expect(JSON.stringify(keys.body)).not.toContain(owner.memberKey);
    expect((await call("GET", "/v1/keys", { token: owner.member })).body.data).toHaveLength(4);
    expect((await call("GET", "/v1/keys", { token: owner.inference })).status).toBe(403);
    const post = await app.handle(new Request("http://localhost:3000/v1/keys", { method: "POST", headers: { authorization: `Bearer ${owner.full}` } }));
    expect(post.status).toBe(404);
  });
});

describe("what every REST route shares", () => {
  test("a caller over the per-minute allowance gets a 429 with Retry-After", async () => {
    const limited = createApp({
      db,
      config: loadConfig({ ...process.env, PUBLIC_URL: "http://localhost:3000", QDZ_DATA_DIR: ".data/test", V1_RATE_LIMIT_PER_MINUTE: "3" }),
    });
    const { call: limitedCall } = restClient(document, (request) => limited.handle(request));
    const owner = await account();
    const statuses: number[] = [];
    let last: RestAnswer | undefined;
    for (let i = 0; i < 5; i++) {
      last = await limitedCall("GET", "/v1/keys", { token: owner.read });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(last!.body.error.code).toBe("rate_limited");
  });

  test("a session cookie writes only from the app's own origin", async () => {
    const owner = await account();
    const send = (origin: string) =>
      app.handle(
        new Request(`http://localhost:3000/v1/instances/${owner.instanceId}/schedules`, {
          method: "POST",
          headers: { cookie: `qdz_session=${owner.user.sessionToken}`, origin, "content-type": "application/json" },
          body: JSON.stringify({ rules: [weekdays] }),
        }),
      );
    expect((await send("https://evil.example")).status).toBe(403);
    expect((await send("http://localhost:3000")).status).toBe(201);
  });
});

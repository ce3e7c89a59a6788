/**
 * The published OpenAPI document: a valid OpenAPI 3.1 document, matching the app's routes both ways (no route
 * undocumented, no documented route missing), every documented route answering in its documented shape, and the
 * billing routes' answers matching it too. The OpenAI routes under /v1 stay OpenAI's.
 */
import { describe, expect, test } from "bun:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { createApp } from "../../server/app";
import { postEntry } from "../../src/billing/ledger";
import { freshDatabase } from "../support/db";
import { newApiKey, newUser, testConfig } from "../support/factories";
import { restClient } from "../support/rest-openapi";

const { db } = await freshDatabase();
const app = createApp({ db, config: testConfig });
const served = await app.handle(new Request("http://localhost:3000/openapi.json"));
const text = await served.text();
const document = JSON.parse(text);
const { call } = restClient(document, (request) => app.handle(request));

/** Surfaces with documents of their own (OpenAI's /v1, tRPC's types) or none for scripts (health, agents, the web app). */
const notRest = (path: string) =>
  ["/healthz", "/readyz", "/metrics", "/trpc/*", "/openapi.json", "/webhooks/stripe", "/agent/heartbeat", "/agent/samples", "/*", "/v1/*"].includes(path) ||
  ["/v1/models", "/v1/chat/completions", "/v1/completions", "/v1/embeddings"].includes(path);

const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, operations]) =>
  Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
);

describe("GET /openapi.json", () => {
  test("is a valid OpenAPI 3.1 document, served as JSON to anyone", async () => {
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toBe("application/json");
    const validator = new Validator();
    expect(await validator.validate(document)).toEqual({ valid: true });
    expect(validator.version).toBe("3.1");
    console.log(`openapi.json: ${text.length} bytes, ${documented.length} operations`);
  });

  test("documents every REST route of the app, and only those", () => {
    const routes = app.routes.filter((route) => !notRest(route.path)).map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, "{$1}")}`);
    expect(routes.sort()).toEqual([...documented].sort());
  });

  test("every documented route answers, in its documented shape (401 without a credential)", async () => {
    for (const line of documented) {
      const [method, path] = line.split(" ") as [string, string];
      const answer = await call(method, path, { id: "inst_x", body: method === "GET" || method === "DELETE" ? undefined : {} });
      expect({ line, status: answer.status, code: answer.body.error.code }).toEqual({ line, status: 401, code: "unauthenticated" });
    }
  });

  test("every operation names its scope, its errors' shape and its responses' schemas", () => {
    for (const operations of Object.values(document.paths as Record<string, Record<string, any>>)) {
      for (const operation of Object.values(operations)) {
        expect(["read", "full", "internal"]).toContain(operation["x-required-scope"]);
        expect(operation.responses["401"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
        expect(operation.responses["429"].headers["Retry-After"]).toBeDefined();
      }
    }
  });
});

describe("the billing routes' answers match the document", () => {
  test("balance, ledger, usage and checkout", async () => {
    const user = await newUser(db);
    await postEntry(db, { accountId: user.accountId, kind: "topup", amountCents: 5000, reference: `cs_doc_${user.userId}` });
    const read = (await newApiKey(db, user, { scope: "read" })).secret;
    const full = (await newApiKey(db, user, { scope: "full" })).secret;
    expect((await call("GET", "/billing/balance", { token: read })).body.balance_cents).toBe(5000);
    expect((await call("GET", "/billing/ledger", { token: read, query: { limit: 1 } })).body.data).toHaveLength(1);
    expect((await call("GET", "/billing/ledger", { token: read, query: { kind: "gift" } })).status).toBe(400);
    expect((await call("GET", "/billing/usage", { token: read })).status).toBe(200);
    const checkout = { amount_cents: 5000, currency: "eur", success_url: "https://app.example/ok", cancel_url: "https://app.example/no" };
    expect((await call("POST", "/v1/billing/checkout", { token: full, body: checkout })).status).toBe(200);
    expect((await call("POST", "/billing/checkout", { token: read, body: checkout })).status).toBe(403);
  });
});

describe("the OpenAI routes under /v1 are OpenAI's", () => {
  test("GET /v1/models and an unknown /v1 POST answer in OpenAI's shape, not the REST one", async () => {
    const user = await newUser(db);
    const key = (await newApiKey(db, user)).secret;
    const models = await app.handle(new Request("http://localhost:3000/v1/models", { headers: { authorization: `Bearer ${key}` } }));
    expect((await models.json()).object).toBe("list");
    const unknown = await app.handle(new Request("http://localhost:3000/v1/instancez", { method: "POST", headers: { authorization: `Bearer ${key}` } }));
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error).toMatchObject({ type: "invalid_request_error" });
  });
});

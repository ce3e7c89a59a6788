/**
 * The /v1 proxy end to end: the official `openai` SDK against the api, in
 * front of real reference-runtime pods on the local provider. Every answer
 * is checked against OpenAI's OpenAPI schemas.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import OpenAI from "openai";
import { instanceRuns, instances } from "../../db/schema";
import { createReferenceRuntime, type ReferenceRuntime } from "../../pods/reference-runtime/server";
import { createApp } from "../../server/app";
import { KeyUsageRecorder } from "../../src/api-keys/authenticate";
import type { Config } from "../../src/config";
import { referenceLaunch, startCompute, waitFor } from "../support/compute";
import { expectValid } from "../support/openapi";

const compute = await startCompute();

const owner = await compute.fundedUser();
const other = await compute.fundedUser();
const keyA = (await owner.api.apiKeys.create({ name: "sdk" })).secret;
const keyB = (await other.api.apiKeys.create({ name: "other" })).secret;
await owner.api.instances.launch({ ...referenceLaunch, servingName: "chat-a" });
await owner.api.instances.launch({ ...referenceLaunch, hfRepo: "BAAI/bge-small-en-v1.5", task: "embeddings", servingName: "embed-a" });
await waitFor(
  () => owner.api.instances.list(),
  (list) => list.length === 2 && list.every((i) => i.state === "running"),
  30_000,
  "both instances running",
);

const sdk = (apiKey: string) => new OpenAI({ baseURL: `${compute.url}/v1`, apiKey, maxRetries: 0 });
const client = sdk(keyA);
const v1 = (path: string, init: RequestInit & { key?: string | null } = {}) => {
  const headers = new Headers(init.headers);
  if (init.key !== null) headers.set("authorization", `Bearer ${init.key ?? keyA}`);
  if (init.body !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
  return fetch(`${compute.url}/v1${path}`, { ...init, headers });
};
const chatBody = (model = "chat-a", extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model, messages: [{ role: "user", content: "Hello" }], max_tokens: 8, ...extra });

/** An api on the same database with other /v1 settings, called in-process (no port). */
function appWith(settings: Partial<Config>) {
  const app = createApp({ db: compute.db, config: { ...compute.config, ...settings } });
  return (path: string, init: RequestInit & { key?: string } = {}) =>
    app.handle(
      new Request(`http://local/v1${path}`, {
        ...init,
        headers: { authorization: `Bearer ${init.key ?? keyA}`, "content-type": "application/json", ...(init.headers as Record<string, string>) },
      }),
    );
}

async function expectOpenAIError(response: Response, status: number, code: string | null) {
  expect(response.status).toBe(status);
  expect(response.headers.get("x-request-id")).toMatch(/^req_/);
  const body = await response.json();
  expectValid("ErrorResponse", body);
  expect(body.error.code).toBe(code);
  return body.error as { message: string; type: string; param: string | null; code: string | null };
}

/**
 * A running instance whose current run points at `runtimeUrl` (a test
 * upstream), served as `servingName`. One probe instance is relaunched under
 * each name, so the tests stay within the local provider's four L4s.
 */
let probe: { id: string; runId: string } | undefined;
async function instanceAt(runtimeUrl: string, servingName: string) {
  if (!probe) {
    const launched = await owner.api.instances.launch({ ...referenceLaunch, servingName: "probe" });
    const running = await waitFor(
      () => owner.api.instances.get({ id: launched.id }),
      (i) => i.state === "running",
      30_000,
      "probe running",
    );
    probe = { id: launched.id, runId: running.runs[0]!.id };
  }
  await compute.db.update(instances).set({ servingName }).where(eq(instances.id, probe.id));
  await compute.db.update(instanceRuns).set({ runtimeUrl }).where(eq(instanceRuns.id, probe.runId));
  return probe.id;
}

describe("the OpenAI SDK through /v1", () => {
  test("models.list: the caller's running instances by serving name", async () => {
    const page = await client.models.list();
    const ids = page.data.map((m) => m.id).sort();
    expect(ids).toEqual(["chat-a", "embed-a"]);
    const raw = await (await v1("/models")).json();
    expectValid("ListModelsResponse", raw);
    expect(raw.data[0]).toMatchObject({ object: "model", owned_by: owner.user.accountId });
    expect(raw.data[0].created).toBeGreaterThan(1_600_000_000);
    // Another account sees none of them.
    expect((await sdk(keyB).models.list()).data).toEqual([]);
  });

  test("chat completion", async () => {
    const { data, response } = await client.chat.completions
      .create({ model: "chat-a", messages: [{ role: "user", content: "Say hello" }], max_tokens: 12 })
      .withResponse();
    expectValid("CreateChatCompletionResponse", data);
    expect(data.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
    expect(response.headers.get("x-ratelimit-limit-requests")).toBe("600");
  });

  test("streaming chat: chunks arrive as the runtime sends them", async () => {
    const started = performance.now();
    const stream = await client.chat.completions.create({
      model: "chat-a",
      messages: [{ role: "user", content: "Tell me a story" }],
      max_tokens: 60,
      stream: true,
    });
    const arrivals: number[] = [];
    for await (const chunk of stream) {
      arrivals.push(performance.now() - started);
      expectValid("CreateChatCompletionStreamResponse", chunk);
    }
    expect(arrivals.length).toBeGreaterThan(20);
    // The runtime paces ~200 tokens/s: 60 tokens take ~300 ms. Buffering would land them all at once at the end.
    const spread = arrivals.at(-1)! - arrivals[0]!;
    expect(spread).toBeGreaterThan(150);
    const firstHalf = arrivals.filter((t) => t < arrivals[0]! + spread / 2).length;
    expect(firstHalf).toBeGreaterThan(5);
  });

  test("completions", async () => {
    const data = await client.completions.create({ model: "chat-a", prompt: "Once upon a time", max_tokens: 8 });
    expectValid("CreateCompletionResponse", data);
    expect(data.choices[0]!.text.length).toBeGreaterThan(0);
  });

  test("embeddings: a string and a list", async () => {
    const one = await client.embeddings.create({ model: "embed-a", input: "hello", encoding_format: "float" });
    expectValid("CreateEmbeddingResponse", one);
    expect(one.data).toHaveLength(1);
    const many = await client.embeddings.create({ model: "embed-a", input: ["a", "b", "c"], encoding_format: "float" });
    expectValid("CreateEmbeddingResponse", many);
    expect(many.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(many.data[0]!.embedding.length).toBe(one.data[0]!.embedding.length);
  });

  test("the body is forwarded byte for byte, and the runtime's own errors pass through", async () => {
    // Fields the proxy does not know (tools, stop, n, logprobs) reach the runtime as sent.
    const body = JSON.stringify({
      model: "chat-a",
      messages: [{ role: "user", content: "Hi" }],
      max_tokens: 4,
      n: 2,
      stop: ["\n"],
      logprobs: true,
      top_logprobs: 2,
    });
    const answer = await v1("/chat/completions", { method: "POST", body });
    expect(answer.status).toBe(200);
    const data = await answer.json();
    expectValid("CreateChatCompletionResponse", data);
    expect(data.choices).toHaveLength(2);
    // A runtime-level 400 (wrong task for this runtime) keeps its status and OpenAI shape.
    const wrongTask = await v1("/embeddings", { method: "POST", body: JSON.stringify({ model: "chat-a", input: "x" }) });
    expect(wrongTask.status).toBe(400);
    expectValid("ErrorResponse", await wrongTask.json());
  });
});

describe("errors, in OpenAI's shape and classes", () => {
  test("401 for a missing, malformed, unknown key: AuthenticationError", async () => {
    expect(
      await sdk(`qdz_${"x".repeat(43)}`)
        .models.list()
        .catch((e) => e),
    ).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(
      await sdk("not-a-key")
        .chat.completions.create({ model: "chat-a", messages: [] })
        .catch((e) => e),
    ).toBeInstanceOf(OpenAI.AuthenticationError);
    for (const authorization of [undefined, "Basic abc", "Bearer", "Bearer qdz_short", `Bearer qdz_${"A".repeat(43)}`]) {
      const answer = await fetch(`${compute.url}/v1/chat/completions`, {
        method: "POST",
        headers: authorization ? { authorization } : {},
        body: chatBody(),
      });
      const error = await expectOpenAIError(answer, 401, "invalid_api_key");
      expect(error).toMatchObject({ type: "invalid_request_error", param: null });
    }
  });

  test("404 for an unknown model: NotFoundError", async () => {
    const error = await client.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error.code).toBe("model_not_found");
    await expectOpenAIError(await v1("/chat/completions", { method: "POST", body: chatBody("nope") }), 404, "model_not_found");
  });

  test("tenant isolation: account B gets exactly what an unknown name gets", async () => {
    const theirs = await v1("/chat/completions", { method: "POST", key: keyB, body: chatBody("chat-a") });
    const unknown = await v1("/chat/completions", { method: "POST", key: keyB, body: chatBody("chat-zz") });
    expect(theirs.status).toBe(404);
    const [a, b] = [await theirs.json(), await unknown.json()];
    expectValid("ErrorResponse", a);
    expect(JSON.stringify(a).replaceAll("chat-a", "NAME")).toBe(JSON.stringify(b).replaceAll("chat-zz", "NAME"));
    expect(
      await sdk(keyB)
        .embeddings.create({ model: "embed-a", input: "x" })
        .catch((e) => e),
    ).toBeInstanceOf(OpenAI.NotFoundError);
  });

  test("400 for malformed JSON, a non-object body, a bad model; never 500", async () => {
    const cases: [string, string | null][] = [
      ["{", null],
      ["", null],
      ["[1,2]", null],
      ["null", null],
      ['"text"', null],
      ["{}", "model"],
      ['{"model": 3}', "model"],
      ['{"model": ""}', "model"],
      ['{"model": null}', "model"],
    ];
    for (const [body, param] of cases) {
      const answer = await v1("/chat/completions", { method: "POST", body });
      expect(answer.status).toBe(400);
      const parsed = await answer.json();
      expectValid("ErrorResponse", parsed);
      expect(parsed.error).toMatchObject({ type: "invalid_request_error", param });
    }
    const invalidUtf8 = await v1("/completions", { method: "POST", body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) });
    expect(invalidUtf8.status).toBe(400);
  });

  test("413 for a body over the limit, declared or chunked", async () => {
    const big = JSON.stringify({ model: "chat-a", prompt: "x".repeat(8 * 1024 * 1024) });
    await expectOpenAIError(await v1("/completions", { method: "POST", body: big }), 413, "request_too_large");
    const small = appWith({ V1_MAX_BODY_BYTES: 1000 });
    await expectOpenAIError(
      await small("/completions", { method: "POST", body: JSON.stringify({ model: "chat-a", prompt: "x".repeat(2000) }) }),
      413,
      "request_too_large",
    );
    // No Content-Length: counted while reading.
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode(i === 0 ? '{"model":"chat-a","prompt":"' : "y".repeat(500)));
        controller.close();
      },
    });
    await expectOpenAIError(await small("/completions", { method: "POST", body: chunked }), 413, "request_too_large");
  });

  test("429 per key with rate-limit headers and Retry-After", async () => {
    const limited = appWith({ V1_RATE_LIMIT_PER_MINUTE: 3 });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await limited("/models", { method: "GET", headers: {} }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers.map((a) => a.headers.get("x-ratelimit-remaining-requests"))).toEqual(["2", "1", "0", "0"]);
    for (const answer of answers) {
      expect(answer.headers.get("x-ratelimit-limit-requests")).toBe("3");
      expect(answer.headers.get("x-ratelimit-reset-requests")).toMatch(/^\d+(ms|s)$|^\d+m\d+s$/);
    }
    expect(Number(answers[3]!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const error = await expectOpenAIError(answers[3]!, 429, "rate_limit_exceeded");
    expect(error.type).toBe("rate_limit_error");
    // Per key: another key is untouched.
    expect((await limited("/models", { method: "GET", key: keyB })).status).toBe(200);
  });

  test("unknown /v1 paths answer an OpenAI 404", async () => {
    await expectOpenAIError(await v1("/assistants", { method: "POST", body: "{}" }), 404, "unknown_url");
    // GET too: never the web app's page with a 200.
    await expectOpenAIError(await v1("/assistants", { method: "GET" }), 404, "unknown_url");
    // The billing route under /v1 keeps working (it answers its own REST shape), for a key whose scope may open a checkout.
    const body = JSON.stringify({ amount_cents: 1000, currency: "eur", success_url: "http://x/s", cancel_url: "http://x/c" });
    const fullKey = (await owner.api.apiKeys.create({ name: "billing", scope: "full" })).secret;
    const checkout = await v1("/billing/checkout", { method: "POST", body, key: fullKey });
    expect(checkout.status).toBe(200);
    // keyA has the default scope, 'inference': /v1's own routes only.
    expect((await v1("/billing/checkout", { method: "POST", body })).status).toBe(403);
  });
});

describe("instance states and upstream failures", () => {
  test("409 naming the state (ConflictError); Retry-After while pending", async () => {
    const launched = await owner.api.instances.launch({ ...referenceLaunch, servingName: "chat-pending" });
    // Held in pending for the test: the lifecycle may move it on its own within a second.
    await compute.db.update(instances).set({ state: "pending" }).where(eq(instances.id, launched.id));
    const pending = await v1("/chat/completions", { method: "POST", body: chatBody("chat-pending") });
    expect(pending.headers.get("retry-after")).toBe("5");
    const error = await expectOpenAIError(pending, 409, "instance_not_running");
    expect(error.message).toContain("instance 'chat-pending' is pending");
    await waitFor(
      () => owner.api.instances.get({ id: launched.id }),
      (i) => i.state === "running",
      30_000,
      "running",
    );
    await owner.api.instances.stop({ id: launched.id });
    await waitFor(
      () => owner.api.instances.get({ id: launched.id }),
      (i) => i.state === "stopped",
      30_000,
      "stopped",
    );
    const conflict = await client.chat.completions.create({ model: "chat-pending", messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(conflict).toBeInstanceOf(OpenAI.ConflictError);
    expect(conflict.message).toContain(`instance 'chat-pending' is stopped; start it with \`qdz instances start ${launched.id}\` or from the Instances page`);
    expect((await client.models.list()).data.map((m) => m.id)).not.toContain("chat-pending");
  }, 60_000);

  test("502 when the runtime refuses the connection; 504 when it does not answer in time", async () => {
    const closed = Bun.serve({ port: 0, fetch: () => new Response("") });
    const refusedUrl = `http://127.0.0.1:${closed.port}`;
    await closed.stop(true);
    await instanceAt(refusedUrl, "chat-refused");
    const refused = await expectOpenAIError(await v1("/chat/completions", { method: "POST", body: chatBody("chat-refused") }), 502, "upstream_unavailable");
    expect(refused.type).toBe("api_error");

    const silent = Bun.serve({ port: 0, idleTimeout: 0, fetch: () => new Promise<Response>(() => {}) });
    try {
      await instanceAt(`http://127.0.0.1:${silent.port}`, "chat-silent");
      const impatient = appWith({ V1_UPSTREAM_TIMEOUT_MS: 300 });
      const timedOut = await expectOpenAIError(
        await impatient("/chat/completions", { method: "POST", body: chatBody("chat-silent") }),
        504,
        "upstream_timeout",
      );
      expect(timedOut.type).toBe("api_error");
    } finally {
      await silent.stop(true);
    }
  }, 60_000);
});

describe("streams", () => {
  let slow: ReturnType<typeof Bun.serve>;
  let slowRuntime: ReferenceRuntime;

  beforeAll(() => {
    slowRuntime = createReferenceRuntime({ model: "Qwen/Qwen2.5-0.5B-Instruct", servedModelName: "chat-slow", bootMs: 0, tokensPerSecond: 10 });
    slow = Bun.serve({ port: 0, idleTimeout: 0, fetch: slowRuntime.fetch });
  });
  afterAll(() => slow.stop(true));

  test("a client that disconnects mid-stream cancels the upstream generation", async () => {
    await instanceAt(`http://127.0.0.1:${slow.port}`, "chat-slow");
    const abort = new AbortController();
    const answer = await v1("/chat/completions", { method: "POST", body: chatBody("chat-slow", { stream: true, max_tokens: 200 }), signal: abort.signal });
    expect(answer.headers.get("content-type")).toContain("text/event-stream");
    const reader = answer.body!.getReader();
    await reader.read();
    expect(slowRuntime.activeGenerations()).toBe(1);
    abort.abort();
    await waitFor(
      async () => slowRuntime.activeGenerations(),
      (n) => n === 0,
      3000,
      "the upstream generation to stop",
    );
  }, 30_000);

  test("a stream quiet for longer than Bun's 10 s idle timeout survives", async () => {
    const encoder = new TextEncoder();
    const frame = (content: string) =>
      encoder.encode(
        `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "quiet", choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`,
      );
    const quiet = Bun.serve({
      port: 0,
      idleTimeout: 0,
      fetch: () =>
        new Response(
          new ReadableStream<Uint8Array>({
            async start(controller) {
              controller.enqueue(frame("before"));
              await Bun.sleep(11_500);
              controller.enqueue(frame("after"));
              controller.enqueue(encoder.encode("data: [DONE]\n\n"));
              controller.close();
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        ),
    });
    try {
      await instanceAt(`http://127.0.0.1:${quiet.port}`, "chat-quiet");
      const stream = await client.chat.completions.create({ model: "chat-quiet", messages: [{ role: "user", content: "x" }], stream: true });
      const contents: string[] = [];
      for await (const chunk of stream) contents.push(chunk.choices[0]!.delta.content ?? "");
      expect(contents).toEqual(["before", "after"]);
    } finally {
      await quiet.stop(true);
    }
  }, 30_000);
});

describe("the cache follows the database within a second", () => {
  test("revoking a key", async () => {
    const { key, secret } = await owner.api.apiKeys.create({ name: "short-lived" });
    const before = await sdk(secret).models.list();
    expect(before.data.length).toBeGreaterThan(0);
    await owner.api.apiKeys.revoke({ id: key.id });
    const started = Date.now();
    await waitFor(
      async () => (await v1("/models", { key: secret })).status,
      (status) => status === 401,
      1000,
      "the revoked key refused",
    );
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test("stopping an instance", async () => {
    const launched = await owner.api.instances.launch({ ...referenceLaunch, servingName: "chat-stop" });
    await waitFor(
      () => owner.api.instances.get({ id: launched.id }),
      (i) => i.state === "running",
      30_000,
      "running",
    );
    expect((await v1("/chat/completions", { method: "POST", body: chatBody("chat-stop") })).status).toBe(200);
    await owner.api.instances.stop({ id: launched.id });
    await waitFor(
      async () => (await v1("/chat/completions", { method: "POST", body: chatBody("chat-stop") })).status,
      (status) => status === 409,
      1000,
      "the stopping instance refused",
    );
  }, 60_000);

  test("a runtime URL change reroutes at once", async () => {
    const teapot = Bun.serve({
      port: 0,
      fetch: () => Response.json({ error: { message: "teapot", type: "invalid_request_error", param: null, code: "teapot" } }, { status: 418 }),
    });
    const ok = Bun.serve({
      port: 0,
      fetch: () => Response.json({ error: { message: "ok", type: "invalid_request_error", param: null, code: "ok" } }, { status: 400 }),
    });
    try {
      await instanceAt(`http://127.0.0.1:${ok.port}`, "chat-moving");
      expect((await v1("/chat/completions", { method: "POST", body: chatBody("chat-moving") })).status).toBe(400);
      await compute.db
        .update(instanceRuns)
        .set({ runtimeUrl: `http://127.0.0.1:${teapot.port}` })
        .where(eq(instanceRuns.id, probe!.runId));
      await waitFor(
        async () => (await v1("/chat/completions", { method: "POST", body: chatBody("chat-moving") })).status,
        (status) => status === 418,
        1000,
        "rerouted",
      );
      // A serving name change is heard too: the old name is gone at once.
      await compute.db.update(instances).set({ servingName: "chat-moved" }).where(eq(instances.id, probe!.id));
      await waitFor(
        async () => (await v1("/chat/completions", { method: "POST", body: chatBody("chat-moving") })).status,
        (status) => status === 404,
        1000,
        "old name gone",
      );
    } finally {
      await Promise.all([teapot.stop(true), ok.stop(true)]);
    }
  });

  test("no database write per request: last-used times are batched", async () => {
    const counter = await compute.db.execute<{ n: number }>(sql`select n_tup_upd::int as n from pg_stat_user_tables where relname = 'api_keys'`);
    for (let i = 0; i < 20; i++) expect((await v1("/models")).status).toBe(200);
    const after = await compute.db.execute<{ n: number }>(sql`select n_tup_upd::int as n from pg_stat_user_tables where relname = 'api_keys'`);
    // pg_stat counters are approximate and lag; the point is that 20 requests did not make 20 updates.
    expect(Number(after[0]?.n ?? 0) - Number(counter[0]?.n ?? 0)).toBeLessThan(20);
  });
});

describe("usage per key", () => {
  test("each /v1 request counts for its key, written only by the recorder's batch flush", async () => {
    const keyUsage = new KeyUsageRecorder(compute.db);
    const app = createApp({ db: compute.db, config: compute.config, keyUsage });
    const { key, secret } = await owner.api.apiKeys.create({ name: "counted" });
    const count = async () => (await owner.api.apiKeys.list()).find((k) => k.id === key.id)!.requestCount;
    for (let i = 0; i < 3; i++) {
      const request = new Request("http://local/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
        body: chatBody(),
      });
      expect((await app.handle(request)).status).toBe(200);
    }
    expect(await count()).toBe(0);
    expect(await keyUsage.flush()).toBe(1);
    expect(await count()).toBe(3);
  });
});

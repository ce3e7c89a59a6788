/**
 * The real llama.cpp runtime: `llama-server` built from source (first run on
 * a machine only, ~4–5 min on 2 cores) serving the tiny random-weight model.
 * Its text is gibberish, so these tests assert protocol, shape and
 * determinism, never meaning.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { installLlamaServer } from "../../src/runtimes/llama-cpp/install";
import { conformChatCompletion, conformError } from "../../src/runtimes/llama-cpp/openai-shape";
import { type LlamaServerOptions, type RunningLlamaServer, startLlamaServer } from "../../src/runtimes/llama-cpp/server";
import { freePort } from "../support/cluster";
import { expectValid } from "../support/openapi";
import { ensureLlamaServer, ensureTinyGguf } from "../support/tiny-gguf";

let binary: string;
let model: string;

test("llama-server is built once per machine, then reused at once", async () => {
  binary = await ensureLlamaServer();
  model = await ensureTinyGguf();
  const started = performance.now();
  const again = await installLlamaServer();
  expect(again).toMatchObject({ path: binary, built: false });
  expect(again.version).toMatch(/^version: /);
  expect(performance.now() - started).toBeLessThan(5_000);
}, 600_000);

async function start(extra: Partial<LlamaServerOptions> = {}): Promise<RunningLlamaServer> {
  if (!binary || !model) throw new Error("llama-server was not built: see the first test");
  return startLlamaServer({ binary, model, alias: "tiny", port: await freePort(), contextSize: 512, ...extra });
}

/**
 * A fresh connection per request: llama-server may close an idle keep-alive
 * connection just as the client reuses it, which surfaces as ECONNRESET.
 */
async function post(server: RunningLlamaServer, path: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), keepalive: false });
}

const chat = { model: "tiny", messages: [{ role: "user", content: "Say hello." }], temperature: 0, seed: 1, max_tokens: 8 };

/** The `data:` payloads of a server-sent event stream, `[DONE]` included. */
async function sseData(response: Response): Promise<string[]> {
  const text = await response.text();
  return text
    .split(/\r?\n/)
    .filter((line) => line.startsWith("data:"))
    .map((line) => line.slice("data:".length).trim());
}

describe("chat", () => {
  let server: RunningLlamaServer;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("/v1/models lists the serving name", async () => {
    const body = await (await fetch(`${server.url}/v1/models`)).json();
    expectValid("ListModelsResponse", body);
    expect(body.data.map((m: { id: string }) => m.id)).toContain("tiny");
  });

  test("a chat completion stops at max_tokens and repeats exactly at temperature 0", async () => {
    const first = await post(server, "/v1/chat/completions", chat);
    expect(first.status).toBe(200);
    const body = await first.json();
    // llama-server leaves out two required nullable fields; the proxy adds them (openai-shape.ts).
    expect(body.choices[0]).not.toHaveProperty("logprobs");
    expect(body.choices[0].message).not.toHaveProperty("refusal");
    expectValid("CreateChatCompletionResponse", conformChatCompletion(body));
    expect(body.choices[0].finish_reason).toBe("length");
    expect(body.choices[0].message.role).toBe("assistant");
    expect(typeof body.choices[0].message.content).toBe("string");
    expect(body.usage.completion_tokens).toBe(8);

    const again = await (await post(server, "/v1/chat/completions", chat)).json();
    expect(again.choices[0].message.content).toBe(body.choices[0].message.content);
  });

  test("a streamed chat completion: role delta, content deltas, finish reason, [DONE]", async () => {
    const response = await post(server, "/v1/chat/completions", { ...chat, stream: true });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const data = await sseData(response);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    for (const chunk of chunks) expectValid("CreateChatCompletionStreamResponse", chunk);
    const deltas = chunks.flatMap((c) => c.choices.map((choice: { delta: Record<string, unknown> }) => choice.delta));
    expect(deltas[0]!.role).toBe("assistant");
    expect(deltas.filter((d) => typeof d.content === "string" && d.content.length > 0).length).toBeGreaterThan(0);
    expect(chunks.flatMap((c) => c.choices.map((choice: { finish_reason: string | null }) => choice.finish_reason))).toContain("length");
  });

  test("a streamed completion's content equals the non-streamed one; include_usage adds a usage chunk", async () => {
    const whole = await (await post(server, "/v1/chat/completions", chat)).json();
    const response = await post(server, "/v1/chat/completions", { ...chat, stream: true, stream_options: { include_usage: true } });
    const chunks = (await sseData(response)).slice(0, -1).map((d) => JSON.parse(d));
    const streamed = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    expect(streamed).toBe(whole.choices[0].message.content);
    const last = chunks.at(-1);
    expectValid("CreateChatCompletionStreamResponse", last);
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ completion_tokens: 8 });
  });

  test("a text completion conforms as it is", async () => {
    const response = await post(server, "/v1/completions", { model: "tiny", prompt: "Once upon a time", temperature: 0, seed: 1, max_tokens: 4 });
    expect(response.status).toBe(200);
    const body = await response.json();
    expectValid("CreateCompletionResponse", body);
    expect(body.choices[0].finish_reason).toBe("length");
  });

  test("a prompt longer than the context is a 400, OpenAI's context_length_exceeded once conformed", async () => {
    const response = await post(server, "/v1/chat/completions", { ...chat, messages: [{ role: "user", content: "hello ".repeat(2000) }] });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.error).toMatchObject({ code: 400, type: "exceed_context_size_error", n_ctx: 512 });
    const conformed = conformError(body, response.status);
    expectValid("ErrorResponse", conformed);
    expect(conformed.error).toMatchObject({ type: "invalid_request_error", code: "context_length_exceeded", param: "messages" });
  });

  test("a malformed request is a 400 invalid_request_error", async () => {
    const response = await post(server, "/v1/chat/completions", { model: "tiny", messages: "not a list" });
    expect(response.status).toBe(400);
    const conformed = conformError(await response.json(), response.status);
    expectValid("ErrorResponse", conformed);
    expect(conformed.error.type).toBe("invalid_request_error");
  });

  test("SIGTERM stops it within seconds", async () => {
    const code = await server.stop(10_000);
    expect(server.process.signalCode === "SIGKILL").toBe(false);
    expect(code).not.toBeNull();
    const refused = await fetch(`${server.url}/health`).then(
      () => false,
      () => true,
    );
    expect(refused).toBe(true);
  });
});

describe("embeddings", () => {
  let server: RunningLlamaServer;
  beforeAll(async () => {
    server = await start({ embeddings: true });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("vectors of the model's dimension, normalised and deterministic", async () => {
    const request = { model: "tiny", input: ["The quick brown fox.", "Jumps over the lazy dog."] };
    const response = await post(server, "/v1/embeddings", request);
    expect(response.status).toBe(200);
    const body = await response.json();
    expectValid("CreateEmbeddingResponse", body);
    expect(body.data).toHaveLength(2);
    for (const item of body.data as { embedding: number[] }[]) {
      expect(item.embedding).toHaveLength(32);
      const norm = Math.hypot(...item.embedding);
      expect(norm).toBeCloseTo(1, 4);
    }
    expect(body.data[0].embedding).not.toEqual(body.data[1].embedding);
    const again = await (await post(server, "/v1/embeddings", request)).json();
    expect(again.data[0].embedding).toEqual(body.data[0].embedding);
  });

  test("the same process still serves chat", async () => {
    const response = await post(server, "/v1/chat/completions", chat);
    expect(response.status).toBe(200);
    expect((await response.json()).choices[0].finish_reason).toBe("length");
  });
});

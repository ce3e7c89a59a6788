/**
 * The reference runtime's HTTP API, called through its fetch handler (no
 * port), every body checked against OpenAI's published schemas.
 */
import { describe, expect, test } from "bun:test";
import Ajv2020 from "ajv/dist/2020";
import { decodeBase64 } from "../../pods/reference-runtime/embeddings";
import { createReferenceRuntime, OWNED_BY, type ReferenceRuntime } from "../../pods/reference-runtime/server";
import { expectValid, validateAgainst } from "../support/openapi";

const chatRuntime = createReferenceRuntime({ model: "org/chat-model", servedModelName: "chat", bootMs: 0, tokensPerSecond: 0 });
const embeddingRuntime = createReferenceRuntime({ model: "org/embed-model", servedModelName: "embed", task: "embeddings", bootMs: 0, embeddingDimensions: 64 });

function call(runtime: ReferenceRuntime, path: string, body?: unknown, init: RequestInit = {}): Promise<Response> {
  const method = init.method ?? (body === undefined ? "GET" : "POST");
  const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  return runtime.fetch(
    new Request(`http://runtime.test${path}`, { ...init, method, body: payload, headers: { "content-type": "application/json", ...init.headers } }),
  );
}

async function json(response: Response, status = 200): Promise<any> {
  const body = await response.json();
  if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

/** The `data:` payloads of a server-sent event stream; the last must be [DONE]. */
async function events(response: Response): Promise<any[]> {
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toStartWith("text/event-stream");
  const frames = (await response.text()).split("\n\n").filter(Boolean);
  for (const frame of frames) expect(frame).toStartWith("data: ");
  expect(frames.at(-1)).toBe("data: [DONE]");
  return frames.slice(0, -1).map((frame) => JSON.parse(frame.slice("data: ".length)));
}

async function expectError(response: Response, status: number, code?: string | null): Promise<any> {
  const body = await json(response, status);
  expectValid("ErrorResponse", body);
  if (code !== undefined) expect(body.error.code).toBe(code);
  expect(response.headers.get("x-request-id")).toMatch(/^req_/);
  return body.error;
}

const messages = [{ role: "user", content: "Describe a quiet harbor." }];
const chatBody = (extra: Record<string, unknown> = {}) => ({ model: "chat", messages, ...extra });

describe("GET /v1/models", () => {
  test("lists the served model and says it is the reference runtime", async () => {
    const body = await json(await call(chatRuntime, "/v1/models"));
    expectValid("ListModelsResponse", body);
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({ id: "chat", object: "model", owned_by: OWNED_BY, root: "org/chat-model", runtime: "reference", task: "chat" });
    expect(body.data[0].description).toContain("Not a real model");
  });

  test("GET /v1/models/{id} answers the card, or 404 for another name", async () => {
    expectValid("Model", await json(await call(chatRuntime, "/v1/models/chat")));
    await expectError(await call(chatRuntime, "/v1/models/gpt-4o"), 404, "model_not_found");
    await expectError(await call(chatRuntime, "/v1/models/%E0%A4%A"), 404, "model_not_found");
    const slashed = createReferenceRuntime({ model: "org/name", bootMs: 0 });
    expect((await json(await call(slashed, "/v1/models/org%2Fname"))).id).toBe("org/name");
    expect((await json(await call(slashed, "/v1/models/org/name"))).id).toBe("org/name");
  });
});

describe("POST /v1/chat/completions", () => {
  test("answers a valid chat completion, the same one twice", async () => {
    const first = await json(await call(chatRuntime, "/v1/chat/completions", chatBody()));
    expectValid("CreateChatCompletionResponse", first);
    expect(first.model).toBe("chat");
    expect(first.choices[0].message.content).toStartWith("[reference runtime]");
    expect(first.choices[0].finish_reason).toBe("stop");
    // "Describe a quiet harbor." is four words and a full stop.
    expect(first.usage.prompt_tokens).toBe(5);
    expect(first.usage.total_tokens).toBe(first.usage.prompt_tokens + first.usage.completion_tokens);
    const second = await json(await call(chatRuntime, "/v1/chat/completions", chatBody({ temperature: 0.9 })));
    expect(second.choices).toEqual(first.choices);
    expect(second.usage).toEqual(first.usage);
    expect(second.id).not.toBe(first.id);
  });

  test("n choices are all different and deterministic", async () => {
    const body = await json(await call(chatRuntime, "/v1/chat/completions", chatBody({ n: 4 })));
    expectValid("CreateChatCompletionResponse", body);
    expect(body.choices.map((choice: any) => choice.index)).toEqual([0, 1, 2, 3]);
    expect(new Set(body.choices.map((choice: any) => choice.message.content)).size).toBe(4);
    const again = await json(await call(chatRuntime, "/v1/chat/completions", chatBody({ n: 4 })));
    expect(again.choices).toEqual(body.choices);
  });

  test("max_tokens ends with length; stop ends before the sequence", async () => {
    const full = (await json(await call(chatRuntime, "/v1/chat/completions", chatBody()))).choices[0].message.content as string;
    const short = await json(await call(chatRuntime, "/v1/chat/completions", chatBody({ max_tokens: 3 })));
    expectValid("CreateChatCompletionResponse", short);
    expect(short.choices[0].finish_reason).toBe("length");
    expect(short.usage.completion_tokens).toBe(3);
    expect(full.startsWith(short.choices[0].message.content)).toBe(true);
    const word = full.split(" ")[5]!;
    const stopped = await json(await call(chatRuntime, "/v1/chat/completions", chatBody({ stop: [word] })));
    expect(stopped.choices[0].message.content).toBe(full.slice(0, full.indexOf(word)));
    expect(stopped.choices[0].finish_reason).toBe("stop");
  });

  test("logprobs with top_logprobs in OpenAI's shape", async () => {
    const body = await json(await call(chatRuntime, "/v1/chat/completions", chatBody({ logprobs: true, top_logprobs: 2, max_tokens: 5 })));
    expectValid("CreateChatCompletionResponse", body);
    const content = body.choices[0].logprobs.content;
    expect(content).toHaveLength(5);
    expect(content.map((entry: any) => entry.token).join("")).toBe(body.choices[0].message.content);
    expect(content[0].top_logprobs).toHaveLength(2);
    await expectError(await call(chatRuntime, "/v1/chat/completions", chatBody({ top_logprobs: 30 })), 400);
  });

  test("json_object and json_schema answer JSON; the schema's is valid against it", async () => {
    const object = await json(await call(chatRuntime, "/v1/chat/completions", chatBody({ response_format: { type: "json_object" } })));
    expectValid("CreateChatCompletionResponse", object);
    expect(JSON.parse(object.choices[0].message.content)).toMatchObject({ reference_runtime: true });
    const schema = {
      type: "object",
      properties: {
        city: { type: "string" },
        population: { type: "integer", minimum: 0 },
        districts: { type: "array", items: { type: "string" }, minItems: 1 },
        capital: { type: "boolean" },
      },
      required: ["city", "population", "districts", "capital"],
      additionalProperties: false,
    };
    const structured = await json(
      await call(
        chatRuntime,
        "/v1/chat/completions",
        chatBody({ response_format: { type: "json_schema", json_schema: { name: "city", strict: true, schema } } }),
      ),
    );
    expectValid("CreateChatCompletionResponse", structured);
    const validate = new Ajv2020({ strict: false }).compile(schema);
    expect(validate(JSON.parse(structured.choices[0].message.content))).toBe(true);
  });

  test("tools: a named tool_choice calls the function with arguments from its schema", async () => {
    const parameters = {
      type: "object",
      properties: { city: { type: "string" }, days: { type: "integer", minimum: 1, maximum: 7 } },
      required: ["city", "days"],
    };
    const body = await json(
      await call(
        chatRuntime,
        "/v1/chat/completions",
        chatBody({
          tools: [{ type: "function", function: { name: "forecast", parameters } }],
          tool_choice: { type: "function", function: { name: "forecast" } },
        }),
      ),
    );
    expectValid("CreateChatCompletionResponse", body);
    expect(body.choices[0].finish_reason).toBe("tool_calls");
    const toolCall = body.choices[0].message.tool_calls[0];
    expect(toolCall.function.name).toBe("forecast");
    expect(new Ajv2020({ strict: false }).compile(parameters)(JSON.parse(toolCall.function.arguments))).toBe(true);
  });

  test("streams valid chunks whose deltas add up to the non-streamed answer", async () => {
    const plain = await json(await call(chatRuntime, "/v1/chat/completions", chatBody({ max_tokens: 12, logprobs: true })));
    const chunks = await events(
      await call(chatRuntime, "/v1/chat/completions", chatBody({ max_tokens: 12, logprobs: true, stream: true, stream_options: { include_usage: true } })),
    );
    for (const chunk of chunks) expectValid("CreateChatCompletionStreamResponse", chunk);
    expect(chunks[0].choices[0].delta.role).toBe("assistant");
    const deltas = chunks.flatMap((chunk) => chunk.choices).filter((choice: any) => choice.delta.content);
    expect(deltas).toHaveLength(12);
    expect(deltas.map((choice: any) => choice.delta.content).join("")).toBe(plain.choices[0].message.content);
    expect(deltas.flatMap((choice: any) => choice.logprobs.content)).toEqual(plain.choices[0].logprobs.content);
    expect(chunks.at(-2).choices[0].finish_reason).toBe("length");
    expect(chunks.at(-1).choices).toEqual([]);
    expect(chunks.at(-1).usage).toEqual(plain.usage);
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
  });

  test("streams tool calls as OpenAI does: header, argument pieces, finish tool_calls", async () => {
    const tools = [
      { type: "function", function: { name: "lookup", parameters: { type: "object", properties: { term: { type: "string" } }, required: ["term"] } } },
    ];
    const chunks = await events(
      await call(chatRuntime, "/v1/chat/completions", chatBody({ tools, messages: [{ role: "user", content: "please lookup harbors" }], stream: true })),
    );
    for (const chunk of chunks) expectValid("CreateChatCompletionStreamResponse", chunk);
    const calls = chunks.flatMap((chunk) => chunk.choices.flatMap((choice: any) => choice.delta.tool_calls ?? []));
    expect(calls[0]).toMatchObject({ index: 0, type: "function", function: { name: "lookup", arguments: "" } });
    expect(JSON.parse(calls.map((piece: any) => piece.function.arguments).join(""))).toHaveProperty("term");
    expect(chunks.at(-1).choices[0].finish_reason).toBe("tool_calls");
  });
});

describe("POST /v1/completions", () => {
  test("answers a valid completion for a string and for a list of prompts", async () => {
    const one = await json(await call(chatRuntime, "/v1/completions", { model: "chat", prompt: "The harbor at dawn", max_tokens: 10 }));
    expectValid("CreateCompletionResponse", one);
    expect(one.choices[0].finish_reason).toBe("length");
    expect(one.usage.completion_tokens).toBe(10);
    const many = await json(await call(chatRuntime, "/v1/completions", { model: "chat", prompt: ["a", "b"], n: 2, max_tokens: 100, stop: "." }));
    expectValid("CreateCompletionResponse", many);
    expect(many.choices.map((choice: any) => choice.index)).toEqual([0, 1, 2, 3]);
    expect(many.choices.every((choice: any) => choice.finish_reason === "stop" && !choice.text.includes("."))).toBe(true);
  });

  test("echo and integer logprobs", async () => {
    const body = await json(await call(chatRuntime, "/v1/completions", { model: "chat", prompt: "Echo me", echo: true, logprobs: 3, max_tokens: 4 }));
    expectValid("CreateCompletionResponse", body);
    expect(body.choices[0].text).toStartWith("Echo me");
    expect(body.choices[0].logprobs.tokens.join("")).toBe(body.choices[0].text);
    expect(Object.keys(body.choices[0].logprobs.top_logprobs[0])).toHaveLength(3);
  });

  test("streams chunks that add up to the non-streamed text", async () => {
    const plain = await json(await call(chatRuntime, "/v1/completions", { model: "chat", prompt: "Stream me", max_tokens: 8 }));
    const chunks = await events(
      await call(chatRuntime, "/v1/completions", { model: "chat", prompt: "Stream me", max_tokens: 8, stream: true, stream_options: { include_usage: true } }),
    );
    for (const chunk of chunks) {
      // OpenAI streams finish_reason: null until the end, which its schema's enum does not list.
      const checked = { ...chunk, choices: chunk.choices.map((choice: any) => ({ ...choice, finish_reason: choice.finish_reason ?? "stop" })) };
      expectValid("CreateCompletionResponse", checked);
    }
    expect(chunks.flatMap((chunk) => chunk.choices.map((choice: any) => choice.text)).join("")).toBe(plain.choices[0].text);
    expect(chunks.at(-1).usage).toEqual(plain.usage);
  });
});

describe("POST /v1/embeddings", () => {
  const embed = async (body: Record<string, unknown>) => {
    const out = await json(await call(embeddingRuntime, "/v1/embeddings", { model: "embed", ...body }));
    // OpenAI's schema only describes float arrays; a base64 answer is checked with its vectors decoded.
    const decoded = {
      ...out,
      data: out.data.map((item: any) => ({ ...item, embedding: typeof item.embedding === "string" ? decodeBase64(item.embedding) : item.embedding })),
    };
    expectValid("CreateEmbeddingResponse", decoded);
    return out;
  };

  test("a string, a list of strings, token ids: unit vectors of the configured size", async () => {
    const one = await embed({ input: "a quiet harbor" });
    expect(one.data).toHaveLength(1);
    expect(one.data[0].embedding).toHaveLength(64);
    expect(Math.hypot(...one.data[0].embedding)).toBeCloseTo(1, 5);
    expect(one.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    const many = await embed({ input: ["x", "a quiet harbor"] });
    expect(many.data.map((item: any) => item.index)).toEqual([0, 1]);
    expect(many.data[1].embedding).toEqual(one.data[0].embedding);
    expect((await embed({ input: [1, 2, 3] })).usage.prompt_tokens).toBe(3);
  });

  test("multimodal parts: one vector per list of parts; data: URLs by their bytes", async () => {
    const bytes = Buffer.from("not really a png");
    const parts = [
      { type: "text", text: "a cat" },
      { type: "image_url", image_url: { url: `data:image/png;base64,${bytes.toString("base64")}` } },
    ];
    const single = await embed({ input: parts });
    expect(single.data).toHaveLength(1);
    const sameBytes = await embed({
      input: [
        { type: "text", text: "a cat" },
        { type: "image_url", image_url: { url: `data:image/png,${encodeURIComponent(bytes.toString())}` } },
      ],
    });
    expect(sameBytes.data[0].embedding).toEqual(single.data[0].embedding);
    const lists = await embed({ input: [parts, [{ type: "image_url", image_url: { url: "https://example.com/cat.png" } }]] });
    expect(lists.data).toHaveLength(2);
    expect(lists.data[0].embedding).toEqual(single.data[0].embedding);
    const textOnly = await embed({ input: [{ type: "text", text: "a cat" }] });
    expect(textOnly.data[0].embedding).toEqual((await embed({ input: "a cat" })).data[0].embedding);
  });

  test("base64 and dimensions", async () => {
    const floats = await embed({ input: "harbor", dimensions: 16 });
    const encoded = await embed({ input: "harbor", dimensions: 16, encoding_format: "base64" });
    expect(typeof encoded.data[0].embedding).toBe("string");
    expect(decodeBase64(encoded.data[0].embedding)).toEqual(floats.data[0].embedding);
    await expectError(await call(embeddingRuntime, "/v1/embeddings", { model: "embed", input: "x", dimensions: 65 }), 400);
  });

  test("unsupported image URLs and part types are 400s", async () => {
    await expectError(
      await call(embeddingRuntime, "/v1/embeddings", { model: "embed", input: [{ type: "image_url", image_url: { url: "file:///etc/passwd" } }] }),
      400,
    );
    await expectError(await call(embeddingRuntime, "/v1/embeddings", { model: "embed", input: [{ type: "input_audio", input_audio: {} }] }), 400);
    await expectError(await call(embeddingRuntime, "/v1/embeddings", { model: "embed", input: [] }), 400);
    await expectError(await call(embeddingRuntime, "/v1/embeddings", { model: "embed", input: ["a", { type: "text", text: "b" }] }), 400);
  });
});

describe("errors", () => {
  test("malformed JSON and wrong types are 400s naming the parameter", async () => {
    await expectError(await call(chatRuntime, "/v1/chat/completions", "{not json"), 400, "invalid_json");
    await expectError(await call(chatRuntime, "/v1/chat/completions", ""), 400, "invalid_json");
    const wrong = await expectError(await call(chatRuntime, "/v1/chat/completions", { model: "chat", messages: [{ role: "robot", content: "x" }] }), 400);
    expect(wrong.param).toBe("messages[0].role");
    expect((await expectError(await call(chatRuntime, "/v1/chat/completions", chatBody({ max_tokens: "ten" })), 400)).param).toBe("max_tokens");
    expect((await expectError(await call(chatRuntime, "/v1/chat/completions", [1, 2]), 400)).type).toBe("invalid_request_error");
    await expectError(await call(chatRuntime, "/v1/chat/completions", { model: "chat", messages: [] }), 400);
  });

  test("another model is a 404 model_not_found", async () => {
    const error = await expectError(await call(chatRuntime, "/v1/chat/completions", { model: "gpt-4o", messages }), 404, "model_not_found");
    expect(error.param).toBe("model");
    await expectError(await call(embeddingRuntime, "/v1/embeddings", { model: "chat", input: "x" }), 404, "model_not_found");
  });

  test("the wrong task is a 400 naming the task served", async () => {
    const onChat = await expectError(await call(chatRuntime, "/v1/embeddings", { model: "chat", input: "x" }), 400, "unsupported_task");
    expect(onChat.message).toContain("'chat'");
    const onEmbeddings = await expectError(await call(embeddingRuntime, "/v1/chat/completions", { model: "embed", messages }), 400, "unsupported_task");
    expect(onEmbeddings.message).toContain("'embeddings'");
    await expectError(await call(embeddingRuntime, "/v1/completions", { model: "embed", prompt: "x" }), 400, "unsupported_task");
  });

  test("unknown paths are 404s and wrong methods 405s", async () => {
    await expectError(await call(chatRuntime, "/v1/nope"), 404, "not_found");
    await expectError(await call(chatRuntime, "/admin"), 404, "not_found");
    const wrongMethod = await call(chatRuntime, "/v1/chat/completions");
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    await expectError(wrongMethod, 405);
    await expectError(await call(chatRuntime, "/v1/models", {}), 405);
  });

  test("a request that would generate too much is a 400, not a memory blow-up", async () => {
    const huge = chatBody({ n: 128, max_tokens: 4000, ignore_eos: true, logprobs: true, top_logprobs: 20 });
    const started = performance.now();
    await expectError(await call(chatRuntime, "/v1/chat/completions", huge), 400, "request_too_large");
    expect(performance.now() - started).toBeLessThan(1_000);
    await expectError(await call(chatRuntime, "/v1/completions", { model: "chat", prompt: Array(2048).fill("x"), n: 128 }), 400, "request_too_large");
  });

  test("a prompt longer than max-model-len is a 400 context_length_exceeded", async () => {
    const small = createReferenceRuntime({ model: "m", bootMs: 0, tokensPerSecond: 0, maxModelLen: 16 });
    await expectError(
      await call(small, "/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "word ".repeat(40) }] }),
      400,
      "context_length_exceeded",
    );
    await expectError(await call(small, "/v1/completions", { model: "m", prompt: "a", max_tokens: 100 }), 400, "context_length_exceeded");
  });
});

describe("security", () => {
  const guarded = createReferenceRuntime({ model: "m", bootMs: 0, tokensPerSecond: 0, apiKey: "sk-reference-test" });

  test("with --api-key, /v1 needs the Bearer key", async () => {
    const missing = await call(guarded, "/v1/models");
    expect(missing.headers.get("www-authenticate")).toBe("Bearer");
    await expectError(missing, 401, "invalid_api_key");
    await expectError(await call(guarded, "/v1/models", undefined, { headers: { authorization: "Bearer sk-reference-tesT" } }), 401, "invalid_api_key");
    await expectError(await call(guarded, "/v1/models", undefined, { headers: { authorization: "sk-reference-test" } }), 401, "invalid_api_key");
    await expectError(await call(guarded, "/v1/chat/completions", { model: "m", messages }), 401, "invalid_api_key");
    await expectError(await call(guarded, "/v1/nope"), 401);
    expectValid("ListModelsResponse", await json(await call(guarded, "/v1/models", undefined, { headers: { authorization: "Bearer sk-reference-test" } })));
  });

  test("/health stays open, for the sidecar agent", async () => {
    expect(await json(await call(guarded, "/health"))).toEqual({ status: "ok" });
  });
});

describe("boot phase", () => {
  test("/health reports phases and progress, /v1 answers 503, then both serve", async () => {
    let clock = 1_000_000;
    const booting = createReferenceRuntime({ model: "org/big", bootMs: 10_000, tokensPerSecond: 0 }, { now: () => clock });
    const seen: string[] = [];
    for (const elapsed of [0, 1_000, 2_000, 5_000, 7_999, 8_000, 9_999]) {
      clock = 1_000_000 + elapsed;
      const health = await json(await call(booting, "/health"), 503);
      expect(Object.keys(health).sort()).toEqual(["message", "phase", "progress", "status"]);
      expect(health.status).toBe("booting");
      expect(health.progress).toBeWithin(0, 1.0001);
      seen.push(`${health.phase}@${health.progress}`);
      const models = await expectError(await call(booting, "/v1/models"), 503, "runtime_booting");
      expect(models.message).toContain(health.phase);
      await expectError(await call(booting, "/v1/chat/completions", { model: "org/big", messages }), 503);
    }
    expect(seen).toEqual([
      "pulling_image@0",
      "pulling_image@0",
      "downloading_model@0",
      "downloading_model@0.5",
      "downloading_model@0.999",
      "loading_model@1",
      "loading_model@1",
    ]);
    clock = 1_000_000 + 10_000;
    expect(await json(await call(booting, "/health"))).toEqual({ status: "ok" });
    expectValid("ListModelsResponse", await json(await call(booting, "/v1/models")));
  });
});

describe("pacing and cancellation", () => {
  test("streams at --tokens-per-second", async () => {
    const paced = createReferenceRuntime({ model: "m", bootMs: 0, tokensPerSecond: 100 });
    const started = performance.now();
    const chunks = await events(await call(paced, "/v1/chat/completions", { model: "m", messages, max_tokens: 10, stream: true }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    expect(chunks.filter((chunk) => chunk.choices[0]?.delta.content)).toHaveLength(10);
    expect(paced.activeGenerations()).toBe(0);
  });

  test("a client that goes away mid-stream stops the generation", async () => {
    const slow = createReferenceRuntime({ model: "m", bootMs: 0, tokensPerSecond: 40 });
    const controller = new AbortController();
    const response = await call(
      slow,
      "/v1/chat/completions",
      { model: "m", messages, max_tokens: 400, ignore_eos: true, stream: true },
      { signal: controller.signal },
    );
    const reader = response.body!.getReader();
    await reader.read();
    await reader.read();
    expect(slow.activeGenerations()).toBe(1);
    controller.abort();
    await Bun.sleep(100);
    expect(slow.activeGenerations()).toBe(0);
  });

  test("a cancelled body stops the generation too", async () => {
    const slow = createReferenceRuntime({ model: "m", bootMs: 0, tokensPerSecond: 40 });
    const response = await call(slow, "/v1/completions", { model: "m", prompt: "x", max_tokens: 400, ignore_eos: true, stream: true });
    const reader = response.body!.getReader();
    await reader.read();
    expect(slow.activeGenerations()).toBe(1);
    await reader.cancel();
    expect(slow.activeGenerations()).toBe(0);
  });

  test("a non-streamed answer takes its tokens' time, and stops when the client leaves", async () => {
    const slow = createReferenceRuntime({ model: "m", bootMs: 0, tokensPerSecond: 20 });
    const controller = new AbortController();
    const pending = call(slow, "/v1/chat/completions", { model: "m", messages, max_tokens: 200, ignore_eos: true }, { signal: controller.signal });
    for (let waited = 0; slow.activeGenerations() === 0 && waited < 2_000; waited += 10) await Bun.sleep(10);
    expect(slow.activeGenerations()).toBe(1);
    const started = performance.now();
    controller.abort();
    await pending;
    expect(performance.now() - started).toBeLessThan(500);
    expect(slow.activeGenerations()).toBe(0);
  });
});

describe("logging", () => {
  test("one line per request, with method, path and status", async () => {
    const lines: string[] = [];
    const logged = createReferenceRuntime({ model: "m", bootMs: 0, tokensPerSecond: 0 }, { log: (line) => lines.push(line) });
    await call(logged, "/health");
    await call(logged, "/v1/chat/completions", { model: "nope", messages });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/ GET \/health 200 \d+ms req_/);
    expect(lines[1]).toMatch(/ POST \/v1\/chat\/completions 404 /);
  });
});

test("the schema validator reports what is wrong", () => {
  expect(validateAgainst("ErrorResponse", { error: { message: "x" } }).join("\n")).toContain("required property 'type'");
  expect(() => validateAgainst("NoSuchSchema", {})).toThrow("no schema named");
});

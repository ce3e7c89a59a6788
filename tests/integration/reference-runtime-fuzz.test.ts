/**
 * Thousands of malformed and half-valid requests: the runtime must answer
 * each with a 2xx or a 4xx in OpenAI's error shape, never a 5xx, and keep
 * serving afterwards.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createReferenceRuntime } from "../../pods/reference-runtime/server";
import { validateAgainst } from "../support/openapi";

const chat = createReferenceRuntime({ model: "org/chat", servedModelName: "chat", bootMs: 0, tokensPerSecond: 0, maxModelLen: 2048 });
const embeddings = createReferenceRuntime({ model: "org/embed", servedModelName: "embed", task: "embeddings", bootMs: 0, embeddingDimensions: 32 });

const PATHS = [
  "/v1/chat/completions",
  "/v1/completions",
  "/v1/embeddings",
  "/v1/models",
  "/v1/models/chat",
  "/health",
  "/v1/x",
  "/",
  "//v1/chat/completions",
  "/v1/chat/completions/",
  "/v1/models/%E0%A4%A",
  "/v1/models/%",
  "/health/",
];
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

/** Sends one request and checks the answer; returns the status. */
async function probe(runtime: typeof chat, path: string, method: string, body: string | undefined): Promise<number> {
  const hasBody = body !== undefined && method !== "GET" && method !== "HEAD";
  const response = await runtime.fetch(new Request(`http://runtime.test${path}`, { method, body: hasBody ? body : undefined }));
  const text = await response.text();
  if (response.status >= 500) throw new Error(`${response.status} for ${method} ${path} ${body?.slice(0, 500)}: ${text.slice(0, 500)}`);
  if (response.status >= 400 && path !== "/health") {
    const errors = validateAgainst("ErrorResponse", JSON.parse(text));
    if (errors.length > 0) throw new Error(`not an OpenAI error: ${text}`);
  }
  return response.status;
}

/** Values that are sometimes right and often wrong for a field. */
const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.integer({ min: -5, max: 300 }),
  fc.constantFrom(null, true, false, "", "chat", "embed", 0, -1, 1.5, 1e308, [], {}, "auto", "required", "none"),
);
const text = fc.string({ maxLength: 40 });
const part = fc.oneof(
  fc.record({ type: fc.constant("text"), text }),
  fc.record({
    type: fc.constant("image_url"),
    image_url: fc.record({
      url: fc.oneof(fc.webUrl(), fc.constantFrom("data:image/png;base64,iVBORw0KGgo=", "data:,x", "data:;base64,@@", "file:///etc/passwd")),
    }),
  }),
  fc.record({ type: fc.constantFrom("input_audio", "file", "refusal"), refusal: text }),
);
const message = fc.record(
  {
    role: fc.constantFrom("system", "developer", "user", "assistant", "tool"),
    content: fc.oneof(text, fc.array(part, { minLength: 1, maxLength: 3 })),
    name: fc.constantFrom("ann", "bob"),
  },
  { requiredKeys: ["role", "content"] },
);
/** JSON schemas from sensible to nonsense: generation must cope with all of them. */
const schema = fc.oneof(
  fc.constant({ type: "object", properties: { a: { type: "string" }, b: { type: "array", items: { type: "integer" } } }, required: ["a"] }),
  fc.jsonValue({ maxDepth: 4 }).filter((value) => typeof value === "object" && value !== null && !Array.isArray(value)),
  fc.record(
    {
      type: fc.constantFrom("object", "array", "string", "integer", "number", "boolean", "null", "wat"),
      minItems: anyValue,
      maxLength: anyValue,
      minimum: anyValue,
      properties: anyValue,
      items: anyValue,
      required: anyValue,
      $ref: fc.constantFrom("#", "#/$defs/x", "http://x"),
      enum: anyValue,
    },
    { requiredKeys: [] },
  ),
);
const tool = fc.record({
  type: fc.constant("function"),
  function: fc.record({ name: fc.constantFrom("get_weather", "lookup", "now"), description: text, parameters: schema }, { requiredKeys: ["name"] }),
});
const common = {
  max_tokens: fc.integer({ min: 1, max: 60 }),
  n: fc.integer({ min: 1, max: 3 }),
  stop: fc.oneof(fc.string({ maxLength: 3 }), fc.array(fc.string({ maxLength: 3 }), { maxLength: 4 })),
  stream: fc.boolean(),
  stream_options: fc.record({ include_usage: fc.boolean() }),
  seed: fc.integer(),
  temperature: fc.double({ min: 0, max: 2, noNaN: true }),
  ignore_eos: fc.boolean(),
};

/** A valid body, then up to two of its fields replaced by anything (or removed): half-valid requests. */
function mutated<T extends Record<string, unknown>>(valid: fc.Arbitrary<T>, keys: string[]): fc.Arbitrary<unknown> {
  const mutation = fc.tuple(fc.constantFrom(...keys), fc.option(anyValue, { nil: undefined }));
  return fc.tuple(valid, fc.array(mutation, { maxLength: 2 })).map(([body, mutations]) => {
    const out: Record<string, unknown> = { ...body };
    for (const [key, value] of mutations) {
      if (value === undefined) delete out[key];
      else out[key] = value;
    }
    return out;
  });
}

const chatKeys = [
  "model",
  "messages",
  "max_tokens",
  "max_completion_tokens",
  "n",
  "stop",
  "stream",
  "stream_options",
  "seed",
  "temperature",
  "logprobs",
  "top_logprobs",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "response_format",
  "ignore_eos",
];
const chatBody = mutated(
  fc.record(
    {
      ...common,
      model: fc.constant("chat"),
      messages: fc.array(message, { minLength: 1, maxLength: 3 }),
      max_completion_tokens: fc.integer({ min: 1, max: 60 }),
      logprobs: fc.boolean(),
      top_logprobs: fc.integer({ min: 0, max: 5 }),
      tools: fc.array(tool, { maxLength: 2 }),
      tool_choice: fc.oneof(
        fc.constantFrom("auto", "none", "required"),
        fc.record({ type: fc.constant("function"), function: fc.record({ name: fc.constantFrom("get_weather", "nope") }) }),
      ),
      parallel_tool_calls: fc.boolean(),
      response_format: fc.oneof(
        fc.constant({ type: "text" }),
        fc.constant({ type: "json_object" }),
        fc.record({ type: fc.constant("json_schema"), json_schema: fc.record({ name: fc.constant("out"), schema, strict: fc.boolean() }) }),
      ),
    },
    { requiredKeys: ["model", "messages"] },
  ),
  chatKeys,
);
const completionBody = mutated(
  fc.record(
    {
      ...common,
      model: fc.constant("chat"),
      prompt: fc.oneof(text, fc.array(text, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(100), { minLength: 1, maxLength: 4 })),
      echo: fc.boolean(),
      logprobs: fc.integer({ min: 0, max: 5 }),
      suffix: text,
    },
    { requiredKeys: ["model", "prompt"] },
  ),
  ["model", "prompt", "max_tokens", "n", "stop", "stream", "stream_options", "seed", "echo", "logprobs", "suffix", "ignore_eos"],
);
const embeddingBody = mutated(
  fc.record(
    {
      model: fc.constant("embed"),
      input: fc.oneof(
        text,
        fc.array(text, { minLength: 1, maxLength: 3 }),
        fc.array(part, { minLength: 1, maxLength: 3 }),
        fc.array(fc.array(part, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 2 }),
        fc.array(fc.nat(9), { minLength: 1, maxLength: 3 }),
      ),
      encoding_format: fc.constantFrom("float", "base64"),
      dimensions: fc.integer({ min: 1, max: 32 }),
    },
    { requiredKeys: ["model", "input"] },
  ),
  ["model", "input", "encoding_format", "dimensions"],
);

describe("fuzzing", () => {
  test("arbitrary bytes, JSON values, paths and methods never give a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(chat, embeddings),
        fc.constantFrom(...PATHS),
        fc.constantFrom(...METHODS),
        fc.oneof(
          fc.string(),
          fc.string({ unit: "binary" }),
          fc.jsonValue().map((value) => JSON.stringify(value)),
          fc.constant(undefined),
        ),
        async (runtime, path, method, body) => {
          await probe(runtime, path, method, body);
        },
      ),
      { numRuns: 1000 },
    );
  });

  test("half-valid chat, completion and embedding requests never give a 5xx", async () => {
    const statuses = new Map<number, number>();
    const count = (status: number) => {
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    };
    await fc.assert(
      fc.asyncProperty(chatBody, async (body) => count(await probe(chat, "/v1/chat/completions", "POST", JSON.stringify(body)))),
      { numRuns: 1200 },
    );
    await fc.assert(
      fc.asyncProperty(completionBody, async (body) => count(await probe(chat, "/v1/completions", "POST", JSON.stringify(body)))),
      { numRuns: 800 },
    );
    await fc.assert(
      fc.asyncProperty(embeddingBody, async (body) => count(await probe(embeddings, "/v1/embeddings", "POST", JSON.stringify(body)))),
      { numRuns: 800 },
    );
    // The generators must reach past validation sometimes, or they test only the parser.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(500);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(300);
  });

  test("the runtime still serves afterwards", async () => {
    const response = await chat.fetch(
      new Request("http://runtime.test/v1/chat/completions", {
        method: "POST",
        body: JSON.stringify({ model: "chat", messages: [{ role: "user", content: "still there?" }] }),
      }),
    );
    expect(response.status).toBe(200);
    expect(chat.activeGenerations()).toBe(0);
  });
});

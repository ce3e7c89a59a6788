/**
 * The official `openai` SDK pointed at a reference runtime listening on a
 * port: what the platform's users will do against their instances.
 */
import { afterAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { decodeBase64 } from "../../pods/reference-runtime/embeddings";
import { createReferenceRuntime } from "../../pods/reference-runtime/server";
import { expectValid } from "../support/openapi";

const API_KEY = "sk-reference-sdk-test";

function listen(task: "chat" | "embeddings", tokensPerSecond = 0) {
  const runtime = createReferenceRuntime({ model: `org/${task}`, servedModelName: task, task, bootMs: 0, tokensPerSecond, apiKey: API_KEY });
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 0, fetch: runtime.fetch });
  const client = new OpenAI({ baseURL: `http://127.0.0.1:${server.port}/v1`, apiKey: API_KEY, maxRetries: 0, timeout: 5_000 });
  return { runtime, server, client };
}

const chat = listen("chat");
const embeddings = listen("embeddings");
afterAll(() => {
  chat.server.stop(true);
  embeddings.server.stop(true);
});

const messages = [{ role: "user" as const, content: "Name three harbors." }];

describe("openai SDK", () => {
  test("models.list", async () => {
    const models = [];
    for await (const model of chat.client.models.list()) models.push(model);
    expect(models.map((model) => model.id)).toEqual(["chat"]);
    expect(models[0]!.owned_by).toBe("qdivzero-reference-runtime");
  });

  test("chat.completions.create, plain and deterministic", async () => {
    const first = await chat.client.chat.completions.create({ model: "chat", messages, seed: 7 });
    expectValid("CreateChatCompletionResponse", first);
    expect(first.choices[0]!.message.content).toStartWith("[reference runtime]");
    const second = await chat.client.chat.completions.create({ model: "chat", messages, seed: 7 });
    expect(second.choices).toEqual(first.choices);
  });

  test("chat.completions.create with stream: true", async () => {
    const plain = await chat.client.chat.completions.create({ model: "chat", messages, max_tokens: 15 });
    const stream = await chat.client.chat.completions.create({
      model: "chat",
      messages,
      max_tokens: 15,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null = null;
    let usage: unknown;
    for await (const chunk of stream) {
      expectValid("CreateChatCompletionStreamResponse", chunk);
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(plain.choices[0]!.message.content!);
    expect(finish).toBe("length");
    expect(usage).toEqual(plain.usage);
  });

  test("the SDK's stream helper assembles streamed tool calls", async () => {
    const tools: OpenAI.Chat.ChatCompletionTool[] = [
      {
        type: "function",
        function: {
          name: "get_weather",
          parameters: { type: "object", properties: { city: { type: "string" }, unit: { type: "string", enum: ["c", "f"] } }, required: ["city", "unit"] },
        },
      },
    ];
    const request = { model: "chat", messages: [{ role: "user" as const, content: "Use get_weather for Oslo" }], tools };
    const plain = await chat.client.chat.completions.create(request);
    expect(plain.choices[0]!.finish_reason).toBe("tool_calls");
    const final = await chat.client.chat.completions.stream(request).finalChatCompletion();
    const call = final.choices[0]!.message.tool_calls![0]!;
    expect(call.type === "function" && call.function.name).toBe("get_weather");
    const plainCall = plain.choices[0]!.message.tool_calls![0]!;
    expect(call.type === "function" && plainCall.type === "function" && JSON.parse(call.function.arguments)).toEqual(
      JSON.parse(plainCall.type === "function" ? plainCall.function.arguments : ""),
    );
    expect(final.choices[0]!.finish_reason).toBe("tool_calls");
  });

  test("chat.completions.parse with a json_schema response format", async () => {
    const completion = await chat.client.chat.completions.parse({
      model: "chat",
      messages,
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "harbors",
          strict: true,
          schema: {
            type: "object",
            properties: { harbors: { type: "array", items: { type: "string" }, minItems: 3, maxItems: 3 } },
            required: ["harbors"],
            additionalProperties: false,
          },
        },
      },
    });
    const parsed = completion.choices[0]!.message.parsed as { harbors: string[] };
    expect(parsed.harbors).toHaveLength(3);
  });

  test("completions.create, plain and streamed", async () => {
    const completion = await chat.client.completions.create({ model: "chat", prompt: "Harbors are", max_tokens: 6 });
    expectValid("CreateCompletionResponse", completion);
    expect(completion.choices[0]!.finish_reason).toBe("length");
    let text = "";
    for await (const chunk of await chat.client.completions.create({ model: "chat", prompt: "Harbors are", max_tokens: 6, stream: true }))
      text += chunk.choices[0]?.text ?? "";
    expect(text).toBe(completion.choices[0]!.text);
  });

  test("embeddings.create: a string, a list, base64", async () => {
    const one = await embeddings.client.embeddings.create({ model: "embeddings", input: "harbor", encoding_format: "float" });
    expectValid("CreateEmbeddingResponse", one);
    expect(one.data[0]!.embedding).toHaveLength(384);
    const list = await embeddings.client.embeddings.create({ model: "embeddings", input: ["harbor", "pier"] });
    // Without encoding_format the SDK asks for base64 and decodes it to float32 itself.
    expect(Array.from(list.data[0]!.embedding)).toEqual(one.data[0]!.embedding);
    expect(list.data).toHaveLength(2);
    const encoded = await embeddings.client.embeddings.create({ model: "embeddings", input: "harbor", encoding_format: "base64" });
    expect(decodeBase64(encoded.data[0]!.embedding as unknown as string)).toEqual(one.data[0]!.embedding);
  });

  test("errors surface as the SDK's typed errors", async () => {
    expect(await rejection(chat.client.chat.completions.create({ model: "gpt-4o", messages }))).toBeInstanceOf(OpenAI.NotFoundError);
    expect(await rejection(chat.client.embeddings.create({ model: "chat", input: "x" }))).toBeInstanceOf(OpenAI.BadRequestError);
    const anonymous = new OpenAI({ baseURL: chat.client.baseURL, apiKey: "wrong", maxRetries: 0 });
    expect(await rejection(anonymous.models.list())).toBeInstanceOf(OpenAI.AuthenticationError);
  });
});

/** What an SDK call (a thenable, not a Promise, so expect().rejects does not apply) failed with. */
async function rejection(call: PromiseLike<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

describe("over a real connection", () => {
  test("a client that disconnects mid-stream stops the generation", async () => {
    const slow = listen("chat", 30);
    try {
      const controller = new AbortController();
      const response = await fetch(`http://127.0.0.1:${slow.server.port}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "chat", messages, max_tokens: 300, ignore_eos: true, stream: true }),
        signal: controller.signal,
      });
      const reader = response.body!.getReader();
      await reader.read();
      await reader.read();
      expect(slow.runtime.activeGenerations()).toBe(1);
      controller.abort();
      const deadline = performance.now() + 2_000;
      while (slow.runtime.activeGenerations() > 0 && performance.now() < deadline) await Bun.sleep(20);
      expect(slow.runtime.activeGenerations()).toBe(0);
    } finally {
      slow.server.stop(true);
    }
  });
});

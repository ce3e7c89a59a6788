import { describe, expect, test } from "bun:test";
import Ajv2020 from "ajv/dist/2020";
import { chatCompletionResponse, chatStreamEvents, planChat, promptTokenCount } from "../../pods/reference-runtime/chat";
import { completionResponse, completionStreamEvents, planCompletion, prompts } from "../../pods/reference-runtime/completions";
import { RuntimeError } from "../../pods/reference-runtime/errors";
import { chatRequest, completionRequest } from "../../pods/reference-runtime/schemas";
import { REFERENCE_PREFIX, tokenize } from "../../pods/reference-runtime/text";

const ctx = { servedModelName: "m", maxModelLen: 4096 };
const meta = { id: "chatcmpl-1", created: 1, model: "m" };
const messages = [{ role: "user", content: "Tell me about the sea." }];
const chat = (body: Record<string, unknown>) => planChat(chatRequest.parse({ model: "m", messages, ...body }), ctx);
const complete = (body: Record<string, unknown>) => planCompletion(completionRequest.parse({ model: "m", prompt: "Once upon a time", ...body }), ctx);
const text = (plan: ReturnType<typeof chat>, index = 0) => {
  const choice = plan.choices[index]!;
  if (choice.kind !== "text") throw new Error("expected a text choice");
  return choice.output;
};

describe("planChat: text", () => {
  test("answers placeholder text that says what it is, a few dozen tokens long", () => {
    const output = text(chat({}));
    expect(output.text.startsWith(REFERENCE_PREFIX)).toBe(true);
    expect(output.tokens.length).toBeGreaterThan(24);
    expect(output.tokens.length).toBeLessThan(120);
    expect(output.finishReason).toBe("stop");
  });

  test("the same messages and seed give the same answer; temperature changes nothing", () => {
    expect(text(chat({ temperature: 1.7 }))).toEqual(text(chat({})));
    expect(text(chat({ seed: 1 }))).not.toEqual(text(chat({})));
    expect(text(chat({ messages: [{ role: "user", content: "Something else" }] }))).not.toEqual(text(chat({})));
  });

  test("n choices differ from each other, and choice 0 does not depend on n", () => {
    const plan = chat({ n: 3 });
    expect(plan.choices.map((choice) => choice.index)).toEqual([0, 1, 2]);
    expect(new Set([0, 1, 2].map((i) => text(plan, i).text)).size).toBe(3);
    expect(text(plan, 0)).toEqual(text(chat({})));
  });

  test("max_tokens and max_completion_tokens cut the answer with finish_reason length", () => {
    const full = text(chat({}));
    const short = text(chat({ max_tokens: 5 }));
    expect(short.tokens).toHaveLength(5);
    expect(short.finishReason).toBe("length");
    expect(full.text.startsWith(short.text)).toBe(true);
    expect(text(chat({ max_completion_tokens: 7, max_tokens: 3 })).tokens).toHaveLength(7);
  });

  test("stop (a string or a list) cuts before the sequence with finish_reason stop", () => {
    const full = text(chat({})).text;
    const word = full.split(" ")[4]!;
    const cut = text(chat({ stop: word }));
    expect(cut.text).toBe(full.slice(0, full.indexOf(word)));
    expect(cut.finishReason).toBe("stop");
    expect(text(chat({ stop: ["zzz", word] })).text).toBe(cut.text);
  });

  test("ignore_eos runs to the token limit", () => {
    const output = text(chat({ ignore_eos: true, max_tokens: 300 }));
    expect(output.tokens).toHaveLength(300);
    expect(output.finishReason).toBe("length");
  });

  test("usage: prompt tokens are the messages' words and punctuation, completion tokens the output's", () => {
    const plan = chat({ n: 2 });
    expect(plan.promptTokens).toBe(tokenize("Tell me about the sea.").length);
    expect(plan.completionTokens).toBe(text(plan, 0).tokens.length + text(plan, 1).tokens.length);
    expect(
      promptTokenCount([
        {
          role: "user",
          content: [
            { type: "text", text: "a b" },
            { type: "image_url", image_url: { url: "https://x/y.png" } },
          ],
        },
      ]),
    ).toBe(3);
  });

  test("a prompt or a request beyond max-model-len is a 400 context_length_exceeded", () => {
    const small = { servedModelName: "m", maxModelLen: 20 };
    const long = chatRequest.parse({ model: "m", messages: [{ role: "user", content: "word ".repeat(25) }] });
    expect(() => planChat(long, small)).toThrow(RuntimeError);
    try {
      planChat(chatRequest.parse({ model: "m", messages, max_tokens: 100 }), small);
      throw new Error("expected a 400");
    } catch (error) {
      expect((error as RuntimeError).code).toBe("context_length_exceeded");
      expect((error as RuntimeError).param).toBe("max_tokens");
    }
    // Without max_tokens the answer fits in what the context has left.
    expect(text(planChat(chatRequest.parse({ model: "m", messages }), small)).tokens.length).toBeLessThanOrEqual(20 - 6);
  });

  test("logprobs follow the output's tokens", () => {
    const plan = chat({ logprobs: true, top_logprobs: 3, max_tokens: 6 });
    const choice = plan.choices[0]!;
    if (choice.kind !== "text") throw new Error("expected text");
    expect(choice.logprobs!.map((entry) => entry.token)).toEqual(choice.output.tokens);
    expect(choice.logprobs!.every((entry) => entry.top_logprobs.length === 3)).toBe(true);
    const none = chat({}).choices[0]!;
    expect(none.kind === "text" && none.logprobs).toBeNull();
  });
});

describe("planChat: structured output", () => {
  test("json_object answers a JSON object that says it is a placeholder", () => {
    const value = JSON.parse(text(chat({ response_format: { type: "json_object" } })).text);
    expect(value.reference_runtime).toBe(true);
    expect(typeof value.text).toBe("string");
  });

  test("json_schema answers JSON that validates against the schema", () => {
    const schema = {
      type: "object",
      properties: { title: { type: "string" }, rating: { type: "integer", minimum: 1, maximum: 5 }, tags: { type: "array", items: { type: "string" } } },
      required: ["title", "rating", "tags"],
      additionalProperties: false,
    };
    const validate = new Ajv2020({ strict: false }).compile(schema);
    for (let seed = 0; seed < 10; seed++) {
      const output = text(chat({ seed, response_format: { type: "json_schema", json_schema: { name: "review", schema, strict: true } } }));
      expect(validate(JSON.parse(output.text))).toBe(true);
    }
  });
});

describe("planChat: tools", () => {
  const tools = [
    { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } },
  ];

  test("a mentioned tool is called with finish_reason tool_calls", () => {
    const plan = chat({ tools, messages: [{ role: "user", content: "get_weather in Paris" }] });
    const response = chatCompletionResponse(plan, meta);
    expect(response.choices[0]!.finish_reason).toBe("tool_calls");
    expect(response.choices[0]!.message.content).toBeNull();
    const call = response.choices[0]!.message.tool_calls![0]!;
    expect(call.function.name).toBe("get_weather");
    expect(typeof JSON.parse(call.function.arguments).city).toBe("string");
    expect(plan.completionTokens).toBeGreaterThan(0);
  });

  test("without a mention, auto answers in text", () => {
    expect(chat({ tools }).choices[0]!.kind).toBe("text");
  });

  test("the stream sends the call's header, then its arguments in pieces", () => {
    const plan = chat({ tools, tool_choice: "required" });
    const chunks = [...chatStreamEvents(plan, meta, false)].map(
      (event) =>
        event.data as {
          choices: { delta: { tool_calls?: { index: number; id?: string; function: { name?: string; arguments: string } }[] }; finish_reason: string | null }[];
        },
    );
    const calls = chunks.flatMap((chunk) => chunk.choices.flatMap((choice) => choice.delta.tool_calls ?? []));
    expect(calls[0]!.id).toMatch(/^call_/);
    expect(calls[0]!.function.name).toBe("get_weather");
    const response = chatCompletionResponse(plan, meta);
    expect(calls.map((call) => call.function.arguments).join("")).toBe(response.choices[0]!.message.tool_calls![0]!.function.arguments);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("tool_calls");
  });
});

describe("chatStreamEvents", () => {
  test("role first, one paced delta per token, a finish chunk, then usage", () => {
    const plan = chat({ max_tokens: 4 });
    const events = [...chatStreamEvents(plan, meta, true)];
    const data = events.map((event) => event.data as { choices: { delta: Record<string, unknown>; finish_reason: string | null }[]; usage: unknown });
    expect(data[0]!.choices[0]!.delta).toEqual({ role: "assistant", content: "" });
    expect(events.filter((event) => event.paced)).toHaveLength(4);
    expect(
      data
        .slice(1, 5)
        .map((chunk) => chunk.choices[0]!.delta.content)
        .join(""),
    ).toBe(text(plan).text);
    expect(data[5]!.choices[0]!.finish_reason).toBe("length");
    expect(data[6]!.choices).toEqual([]);
    expect(data[6]!.usage).toEqual({ prompt_tokens: plan.promptTokens, completion_tokens: 4, total_tokens: plan.promptTokens + 4 });
    expect(data.slice(0, 6).every((chunk) => chunk.usage === null)).toBe(true);
  });

  test("n choices stream side by side, paced once per step", () => {
    const plan = chat({ n: 2, max_tokens: 3 });
    const events = [...chatStreamEvents(plan, meta, false)];
    expect(events.filter((event) => event.paced)).toHaveLength(3);
    expect(events.every((event) => !("usage" in (event.data as object)))).toBe(true);
    const byChoice = [0, 1].map((index) =>
      events
        .map((event) => (event.data as { choices: { index: number; delta: { content?: string } }[] }).choices[0]!)
        .filter((choice) => choice.index === index)
        .map((choice) => choice.delta.content ?? "")
        .join(""),
    );
    expect(byChoice).toEqual([text(plan, 0).text, text(plan, 1).text]);
  });
});

describe("planCompletion", () => {
  test("defaults to 16 tokens, as OpenAI's legacy endpoint does", () => {
    const plan = complete({});
    expect(plan.choices[0]!.output.tokens).toHaveLength(16);
    expect(plan.choices[0]!.output.finishReason).toBe("length");
    expect(plan.promptTokens).toBe(4);
  });

  test("a list of prompts gives n choices each, indexed prompt by prompt", () => {
    const plan = complete({ prompt: ["a", "b"], n: 2, max_tokens: 50 });
    expect(plan.choices.map((choice) => choice.index)).toEqual([0, 1, 2, 3]);
    expect(plan.choices[2]!.output).toEqual(complete({ prompt: "b", max_tokens: 50 }).choices[0]!.output);
  });

  test("token-id prompts are accepted and counted by length", () => {
    expect(prompts([1, 2, 3])).toEqual([{ text: "1 2 3", tokens: 3 }]);
    expect(prompts([[1], [2, 3]]).map((prompt) => prompt.tokens)).toEqual([1, 2]);
    expect(complete({ prompt: [[5, 6], [7]] }).choices).toHaveLength(2);
  });

  test("echo puts the prompt first; logprobs cover the echoed and generated tokens", () => {
    const plan = complete({ echo: true, logprobs: 2, max_tokens: 3 });
    const response = completionResponse(plan, meta);
    expect(response.choices[0]!.text.startsWith("Once upon a time[")).toBe(true);
    expect(response.choices[0]!.logprobs!.tokens.join("")).toBe(response.choices[0]!.text);
    expect(response.choices[0]!.logprobs!.text_offset[0]).toBe(0);
  });

  test("stop and determinism work as in chat", () => {
    const full = complete({ max_tokens: 40 }).choices[0]!.output.text;
    const word = full.split(" ")[3]!;
    const cut = complete({ max_tokens: 40, stop: [word] }).choices[0]!.output;
    expect(cut.text).toBe(full.slice(0, full.indexOf(word)));
    expect(cut.finishReason).toBe("stop");
    expect(complete({ max_tokens: 40 }).choices[0]!.output.text).toBe(full);
  });

  test("the stream sends the echo, one token per chunk, finish chunks and usage", () => {
    const plan = complete({ echo: true, max_tokens: 3 });
    const data = [...completionStreamEvents(plan, meta, true)].map(
      (event) => event.data as { choices: { text: string; finish_reason: string | null }[]; usage: unknown },
    );
    expect(data[0]!.choices[0]!.text).toBe("Once upon a time");
    expect(
      data
        .slice(0, -1)
        .map((chunk) => chunk.choices[0]!.text)
        .join(""),
    ).toBe(completionResponse(plan, meta).choices[0]!.text);
    expect(data.at(-2)!.choices[0]!.finish_reason).toBe("length");
    expect(data.at(-1)!.usage).toEqual({ prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 });
  });
});

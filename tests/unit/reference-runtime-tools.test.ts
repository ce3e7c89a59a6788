import { describe, expect, test } from "bun:test";
import Ajv2020 from "ajv/dist/2020";
import { RuntimeError } from "../../pods/reference-runtime/errors";
import type { ChatMessage, Tool } from "../../pods/reference-runtime/schemas";
import { argumentPieces, chooseTools, mentionedTools, toolCallFor } from "../../pods/reference-runtime/tool-calls";

const getWeather: Tool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string" }, unit: { enum: ["c", "f"] } },
      required: ["city", "unit"],
      additionalProperties: false,
    },
  },
};
const searchDocs: Tool = {
  type: "function",
  function: {
    name: "search-docs",
    parameters: { type: "object", properties: { query: { type: "string" }, limit: { type: "integer", minimum: 1, maximum: 10 } }, required: ["query"] },
  },
};
const noParameters: Tool = { type: "function", function: { name: "now" } };
const tools = [getWeather, searchDocs, noParameters];

const user = (content: string): ChatMessage => ({ role: "user", content });

describe("chooseTools", () => {
  test("auto calls the tools the last user message mentions, by name or in words", () => {
    expect(chooseTools(tools, "auto", [user("please call get_weather for Oslo")], true, "s")).toEqual([getWeather]);
    expect(chooseTools(tools, undefined, [user("Get weather, then SEARCH DOCS")], true, "s")).toEqual([getWeather, searchDocs]);
    expect(chooseTools(tools, "auto", [user("what is up?")], true, "s")).toEqual([]);
  });

  test("only the last user message counts, and only whole names", () => {
    const messages: ChatMessage[] = [user("get_weather please"), { role: "assistant", content: "ok" }, user("never mind")];
    expect(chooseTools(tools, "auto", messages, true, "s")).toEqual([]);
    expect(chooseTools(tools, "auto", [user("get_weathers and nowhere")], true, "s")).toEqual([]);
  });

  test("parallel_tool_calls: false calls only the first mentioned tool", () => {
    expect(chooseTools(tools, "auto", [user("get_weather and search-docs")], false, "s")).toEqual([getWeather]);
  });

  test("auto answers in text once tool results follow the user's message, so agent loops end", () => {
    const messages: ChatMessage[] = [
      user("call get_weather"),
      { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "call_1", content: "sunny" },
    ];
    expect(chooseTools(tools, "auto", messages, true, "s")).toEqual([]);
    expect(chooseTools(tools, "required", messages, true, "s")).toEqual([getWeather]);
  });

  test("required calls a mentioned tool, or a deterministic one when none is mentioned", () => {
    expect(chooseTools(tools, "required", [user("search docs")], true, "s")).toEqual([searchDocs]);
    const picked = chooseTools(tools, "required", [user("hello")], true, "seed-1");
    expect(picked).toHaveLength(1);
    expect(chooseTools(tools, "required", [user("hello")], true, "seed-1")).toEqual(picked);
    const over = new Set(Array.from({ length: 30 }, (_, i) => chooseTools(tools, "required", [user("hello")], true, `seed-${i}`)[0]!.function.name));
    expect(over.size).toBe(3);
  });

  test("a named function is called whatever the message says; none calls nothing", () => {
    expect(chooseTools(tools, { type: "function", function: { name: "now" } }, [user("get_weather")], true, "s")).toEqual([noParameters]);
    expect(chooseTools(tools, "none", [user("get_weather")], true, "s")).toEqual([]);
  });

  test("naming a function that is not offered, or choosing without tools, is a 400", () => {
    expect(() => chooseTools(tools, { type: "function", function: { name: "missing" } }, [user("x")], true, "s")).toThrow(RuntimeError);
    try {
      chooseTools([], "required", [user("x")], true, "s");
      throw new Error("expected a 400");
    } catch (error) {
      expect(error).toBeInstanceOf(RuntimeError);
      expect((error as RuntimeError).status).toBe(400);
      expect((error as RuntimeError).param).toBe("tool_choice");
    }
    expect(chooseTools([], "none", [user("x")], true, "s")).toEqual([]);
    expect(chooseTools([], undefined, [user("x")], true, "s")).toEqual([]);
  });

  test("mentionedTools reads text parts of multimodal content too", () => {
    expect(mentionedTools(tools, "Could you run NOW?")).toEqual([noParameters]);
  });
});

describe("toolCallFor", () => {
  const ajv = new Ajv2020({ strict: false });

  test("arguments are JSON that validates against the function's parameters", () => {
    for (const tool of [getWeather, searchDocs]) {
      const validate = ajv.compile(tool.function.parameters!);
      for (let i = 0; i < 30; i++) {
        const call = toolCallFor(tool, `seed-${i}`, 0);
        expect(call.name).toBe(tool.function.name);
        expect(validate(JSON.parse(call.arguments))).toBe(true);
      }
    }
  });

  test("a function without parameters gets an empty object", () => {
    expect(JSON.parse(toolCallFor(noParameters, "s", 0).arguments)).toEqual({});
  });

  test("ids and arguments are deterministic, and differ by position and seed", () => {
    const call = toolCallFor(getWeather, "s", 0);
    expect(call.id).toMatch(/^call_[0-9a-f]{24}$/);
    expect(toolCallFor(getWeather, "s", 0)).toEqual(call);
    expect(toolCallFor(getWeather, "s", 1).id).not.toBe(call.id);
    expect(toolCallFor(getWeather, "t", 0).id).not.toBe(call.id);
  });

  test("argument pieces join back into the arguments", () => {
    const call = toolCallFor(searchDocs, "s", 0);
    const pieces = argumentPieces(call.arguments);
    expect(pieces.length).toBeGreaterThan(3);
    expect(pieces.join("")).toBe(call.arguments);
  });
});

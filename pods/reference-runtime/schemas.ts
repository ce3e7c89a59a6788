import { z } from "zod";

/**
 * Request bodies as OpenAI documents them. Objects are loose: fields this
 * runtime does not use (`user`, `metadata`, `temperature`'s friends, vLLM's
 * extensions) are accepted and ignored, as vLLM does, but a field it knows
 * with the wrong type is a 400.
 */

const optional = <T extends z.ZodType>(schema: T) => schema.nullish();

const textPart = z.looseObject({ type: z.literal("text"), text: z.string() });
/** `image_url` as OpenAI sends it (`{url}`), or as a bare string, which some clients send. */
const imageUrl = z.union([z.string(), z.looseObject({ url: z.string(), detail: z.string().optional() })]);
const imagePart = z.looseObject({ type: z.literal("image_url"), image_url: imageUrl });
const otherPart = <T extends string>(type: T) => z.looseObject({ type: z.literal(type) });

export const contentPart = z.discriminatedUnion("type", [
  textPart,
  imagePart,
  otherPart("input_audio"),
  otherPart("file"),
  otherPart("video_url"),
  z.looseObject({ type: z.literal("refusal"), refusal: z.string() }),
]);
export type ContentPart = z.output<typeof contentPart>;

const content = z.union([z.string(), z.array(contentPart)]);

const toolCall = z.looseObject({
  id: z.string(),
  type: z.literal("function"),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

export const chatMessage = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
  content: optional(content),
  name: optional(z.string()),
  tool_calls: optional(z.array(toolCall)),
  tool_call_id: optional(z.string()),
});
export type ChatMessage = z.output<typeof chatMessage>;

const functionName = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, underscores or dashes");

export const tool = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: functionName,
    description: optional(z.string()),
    parameters: optional(z.record(z.string(), z.unknown())),
    strict: optional(z.boolean()),
  }),
});
export type Tool = z.output<typeof tool>;

export const toolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string() }) }),
]);
export type ToolChoice = z.output<typeof toolChoice>;

export const responseFormat = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text") }),
  z.looseObject({ type: z.literal("json_object") }),
  z.looseObject({
    type: z.literal("json_schema"),
    json_schema: z.looseObject({
      name: z.string(),
      description: optional(z.string()),
      schema: optional(z.record(z.string(), z.unknown())),
      strict: optional(z.boolean()),
    }),
  }),
]);
export type ResponseFormat = z.output<typeof responseFormat>;

const tokenLimit = optional(z.int().min(1));
const stop = optional(z.union([z.string(), z.array(z.string()).max(16)]));
const streamOptions = optional(z.looseObject({ include_usage: optional(z.boolean()) }));
/** OpenAI's limit on `n`; enough to show several choices, small enough that one request cannot hog the runtime. */
const choices = optional(z.int().min(1).max(128));

/** What chat and completion requests share: how many answers, when to stop, streaming and sampling. */
const generation = {
  n: choices,
  stop,
  stream: optional(z.boolean()),
  stream_options: streamOptions,
  seed: optional(z.int()),
  temperature: optional(z.number().min(0).max(2)),
  top_p: optional(z.number().min(0).max(1)),
};

export const chatRequest = z.looseObject({
  model: z.string(),
  messages: z.array(chatMessage).min(1),
  max_tokens: tokenLimit,
  max_completion_tokens: tokenLimit,
  ...generation,
  tools: optional(z.array(tool).max(128)),
  tool_choice: optional(toolChoice),
  parallel_tool_calls: optional(z.boolean()),
  response_format: optional(responseFormat),
  logprobs: optional(z.boolean()),
  top_logprobs: optional(z.int().min(0).max(20)),
  /** vLLM's extension: generate until the token limit, for load tests. */
  ignore_eos: optional(z.boolean()),
});
export type ChatRequest = z.output<typeof chatRequest>;

const tokenIds = z.array(z.int().min(0)).min(1);

export const completionRequest = z.looseObject({
  model: z.string(),
  prompt: z.union([z.string(), z.array(z.string()).min(1).max(2048), tokenIds, z.array(tokenIds).min(1).max(2048)]),
  max_tokens: tokenLimit,
  ...generation,
  echo: optional(z.boolean()),
  logprobs: optional(z.int().min(0).max(20)),
  suffix: optional(z.string()),
  ignore_eos: optional(z.boolean()),
});
export type CompletionRequest = z.output<typeof completionRequest>;

/** What `input` accepts; how each form maps to embeddings is documented in embeddings.ts. */
/** At most 2048 items per request, as OpenAI allows. */
export const embeddingInput = z.union([
  z.string(),
  z.array(z.string()).min(1).max(2048),
  tokenIds,
  z.array(tokenIds).min(1).max(2048),
  z.array(contentPart).min(1),
  z.array(z.array(contentPart).min(1)).min(1).max(2048),
]);
export type EmbeddingInput = z.output<typeof embeddingInput>;

export const embeddingRequest = z.looseObject({
  model: z.string(),
  input: embeddingInput,
  encoding_format: optional(z.enum(["float", "base64"])),
  dimensions: optional(z.int().min(1)),
  user: optional(z.string()),
});
export type EmbeddingRequest = z.output<typeof embeddingRequest>;

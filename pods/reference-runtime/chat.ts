import { GenerationBudget, type GenerationContext, type ResponseMeta, SYSTEM_FINGERPRINT, stopList, tokenBudget, usage } from "./generation";
import { hexDigest, rngFor, stableJson } from "./hash";
import { valueFromSchema } from "./json-schema";
import { type TokenLogprob, tokenLogprobs } from "./logprobs";
import type { ChatMessage, ChatRequest } from "./schemas";
import type { StreamEvent } from "./sse";
import { countTokens, limitOutput, type Output, placeholderText, REFERENCE_PREFIX } from "./text";
import { argumentPieces, chooseTools, messageText, type PlannedToolCall, toolCallFor } from "./tool-calls";

interface TextChoice {
  index: number;
  kind: "text";
  output: Output;
  logprobs: TokenLogprob[] | null;
}

interface ToolCallChoice {
  index: number;
  kind: "tool_calls";
  calls: PlannedToolCall[];
}

export type ChatChoicePlan = TextChoice | ToolCallChoice;

/** Everything a chat answer will say, decided up front; responses and streams are renderings of it. */
export interface ChatPlan {
  promptTokens: number;
  completionTokens: number;
  choices: ChatChoicePlan[];
  /** The longest choice in tokens: how many paced steps the answer takes. */
  steps: number;
}

/**
 * Plans a chat completion. The seed covers what changes the answer (messages,
 * seed, tools, response format) and leaves out what only limits it
 * (`max_tokens`, `stop`, `n`), so a shorter answer is a prefix of the longer
 * one and choice 0 is the same whatever `n` is. Temperature is ignored.
 */
export function planChat(request: ChatRequest, ctx: GenerationContext): ChatPlan {
  const promptTokens = promptTokenCount(request.messages);
  const budget = tokenBudget(
    promptTokens,
    request.max_completion_tokens ?? request.max_tokens,
    ctx.maxModelLen,
    request.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens",
  );
  const seed = hexDigest(
    stableJson({
      messages: request.messages,
      seed: request.seed ?? null,
      tools: request.tools ?? null,
      tool_choice: request.tool_choice ?? null,
      response_format: request.response_format ?? null,
    }),
  );
  const stop = stopList(request.stop);
  const spent = new GenerationBudget(request.logprobs ? 1 + (request.top_logprobs ?? 0) : 1);
  if (request.ignore_eos) spent.ensure((request.n ?? 1) * budget);
  const choices: ChatChoicePlan[] = [];
  for (let index = 0; index < (request.n ?? 1); index++) {
    const choiceSeed = `${seed}:${index}`;
    const tools = chooseTools(request.tools ?? [], request.tool_choice, request.messages, request.parallel_tool_calls !== false, choiceSeed);
    if (tools.length > 0) {
      const choice: ToolCallChoice = { index, kind: "tool_calls", calls: tools.map((tool, position) => toolCallFor(tool, choiceSeed, position)) };
      spent.spend(choiceTokens(choice));
      choices.push(choice);
      continue;
    }
    const output = limitOutput(naturalAnswer(request, choiceSeed, budget), budget, stop);
    spent.spend(output.tokens.length);
    const logprobs = request.logprobs ? tokenLogprobs(choiceSeed, output.tokens, request.top_logprobs ?? 0) : null;
    choices.push({ index, kind: "text", output, logprobs });
  }
  const lengths = choices.map(choiceTokens);
  return { promptTokens, completionTokens: lengths.reduce((sum, n) => sum + n, 0), choices, steps: Math.max(0, ...lengths) };
}

/** The answer before the token limit and stop sequences cut it. */
function naturalAnswer(request: ChatRequest, seed: string, budget: number): string {
  const rng = rngFor(seed, "answer");
  const format = request.response_format;
  if (format?.type === "json_schema") return JSON.stringify(valueFromSchema(format.json_schema.schema ?? { type: "object" }, rng));
  if (format?.type === "json_object") {
    return JSON.stringify({
      reference_runtime: true,
      note: `${REFERENCE_PREFIX} deterministic placeholder, not a model's answer`,
      text: placeholderText(rng, rng.int(8, 16)),
    });
  }
  return request.ignore_eos ? placeholderText(rng, budget) : placeholderText(rng);
}

/** Words and punctuation of every message, tool-call arguments included; each non-text part counts one. */
export function promptTokenCount(messages: readonly ChatMessage[]): number {
  let total = 0;
  for (const message of messages) {
    total += countTokens(messageText(message));
    if (Array.isArray(message.content)) total += message.content.filter((part) => part.type !== "text").length;
    for (const call of message.tool_calls ?? []) total += countTokens(call.function.arguments) + 1;
  }
  return total;
}

function choiceTokens(choice: ChatChoicePlan): number {
  if (choice.kind === "text") return choice.output.tokens.length;
  return choice.calls.reduce((sum, call) => sum + 1 + argumentPieces(call.arguments).length, 0);
}

function finishReason(choice: ChatChoicePlan): "stop" | "length" | "tool_calls" {
  return choice.kind === "text" ? choice.output.finishReason : "tool_calls";
}

/** OpenAI's CreateChatCompletionResponse. */
export function chatCompletionResponse(plan: ChatPlan, meta: ResponseMeta) {
  return {
    id: meta.id,
    object: "chat.completion" as const,
    created: meta.created,
    model: meta.model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: plan.choices.map((choice) => ({
      index: choice.index,
      message:
        choice.kind === "text"
          ? { role: "assistant" as const, content: choice.output.text, refusal: null }
          : {
              role: "assistant" as const,
              content: null,
              refusal: null,
              tool_calls: choice.calls.map((call) => ({ id: call.id, type: "function" as const, function: { name: call.name, arguments: call.arguments } })),
            },
      logprobs: choice.kind === "text" && choice.logprobs ? { content: choice.logprobs, refusal: null } : null,
      finish_reason: finishReason(choice),
    })),
    usage: usage(plan.promptTokens, plan.completionTokens),
  };
}

type Delta = { delta: Record<string, unknown>; logprobs: { content: TokenLogprob[]; refusal: null } | null };

/** A choice's deltas after the role: one per token, or a tool call's header then its argument pieces. */
function choiceDeltas(choice: ChatChoicePlan): Delta[] {
  if (choice.kind === "text") {
    return choice.output.tokens.map((token, position) => ({
      delta: { content: token },
      logprobs: choice.logprobs ? { content: [choice.logprobs[position]!], refusal: null } : null,
    }));
  }
  return choice.calls.flatMap((call, index) => [
    { delta: { tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] }, logprobs: null },
    ...argumentPieces(call.arguments).map((piece) => ({ delta: { tool_calls: [{ index, function: { arguments: piece } }] }, logprobs: null })),
  ]);
}

/**
 * The stream of CreateChatCompletionStreamResponse chunks: a role delta per
 * choice, then the choices' deltas in step (one paced step per token, as a
 * batch generates them together), a finish_reason chunk per choice, and with
 * `include_usage` a last chunk with empty choices and the usage (earlier
 * chunks then carry `usage: null`, as OpenAI's do).
 */
export function* chatStreamEvents(plan: ChatPlan, meta: ResponseMeta, includeUsage: boolean): Generator<StreamEvent> {
  const chunk = (choices: unknown[], usageValue: unknown = null) => ({
    id: meta.id,
    object: "chat.completion.chunk" as const,
    created: meta.created,
    model: meta.model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices,
    ...(includeUsage ? { usage: usageValue } : {}),
  });
  for (const choice of plan.choices) {
    const delta = { role: "assistant", content: choice.kind === "text" ? "" : null };
    yield { data: chunk([{ index: choice.index, delta, logprobs: null, finish_reason: null }]), paced: false };
  }
  const deltas = plan.choices.map(choiceDeltas);
  for (let step = 0; step < plan.steps; step++) {
    let first = true;
    for (const [position, choice] of plan.choices.entries()) {
      const entry = deltas[position]![step];
      if (!entry) continue;
      yield { data: chunk([{ index: choice.index, delta: entry.delta, logprobs: entry.logprobs, finish_reason: null }]), paced: first };
      first = false;
    }
  }
  for (const choice of plan.choices) {
    yield { data: chunk([{ index: choice.index, delta: {}, logprobs: null, finish_reason: finishReason(choice) }]), paced: false };
  }
  if (includeUsage) yield { data: chunk([], usage(plan.promptTokens, plan.completionTokens)), paced: false };
}

import { GenerationBudget, type GenerationContext, type ResponseMeta, SYSTEM_FINGERPRINT, stopList, tokenBudget, usage } from "./generation";
import { hexDigest, rngFor, stableJson } from "./hash";
import { type CompletionLogprobs, completionLogprobs } from "./logprobs";
import type { CompletionRequest } from "./schemas";
import type { StreamEvent } from "./sse";
import { countTokens, limitOutput, type Output, placeholderText, tokenize } from "./text";

/** OpenAI's default for the legacy endpoint: completions are short unless asked otherwise. */
export const DEFAULT_COMPLETION_TOKENS = 16;

interface Prompt {
  text: string;
  tokens: number;
}

interface CompletionChoicePlan {
  index: number;
  /** The prompt's text when `echo` is set, else empty. */
  echo: string;
  output: Output;
  logprobs: CompletionLogprobs | null;
}

export interface CompletionPlan {
  promptTokens: number;
  completionTokens: number;
  choices: CompletionChoicePlan[];
  steps: number;
}

/** A prompt of token ids has no text here; it is shown (and echoed) as the ids. */
export function prompts(prompt: CompletionRequest["prompt"]): Prompt[] {
  if (typeof prompt === "string") return [{ text: prompt, tokens: countTokens(prompt) }];
  if (prompt.every((item) => typeof item === "string")) return prompt.map((text) => ({ text, tokens: countTokens(text) }));
  if (prompt.every((item) => typeof item === "number")) return [{ text: prompt.join(" "), tokens: prompt.length }];
  return (prompt as number[][]).map((ids) => ({ text: ids.join(" "), tokens: ids.length }));
}

/**
 * Plans a legacy completion: `n` choices per prompt, indexed prompt by prompt
 * as OpenAI does (prompt p's choice i is p·n + i). Determinism works as in
 * chat: the seed covers the prompt and `seed`, not the limits.
 */
export function planCompletion(request: CompletionRequest, ctx: GenerationContext): CompletionPlan {
  const list = prompts(request.prompt);
  const n = request.n ?? 1;
  const stop = stopList(request.stop);
  const spent = new GenerationBudget(request.logprobs == null ? 1 : 1 + request.logprobs);
  if (request.ignore_eos) spent.ensure(list.length * n * (request.max_tokens ?? DEFAULT_COMPLETION_TOKENS));
  const choices: CompletionChoicePlan[] = [];
  for (const [p, prompt] of list.entries()) {
    const budget = tokenBudget(prompt.tokens, request.max_tokens ?? DEFAULT_COMPLETION_TOKENS, ctx.maxModelLen, "max_tokens");
    const seed = hexDigest(stableJson({ prompt: prompt.text, suffix: request.suffix ?? null, seed: request.seed ?? null }));
    for (let i = 0; i < n; i++) {
      const choiceSeed = `${seed}:${i}`;
      const rng = rngFor(choiceSeed, "answer");
      const output = limitOutput(request.ignore_eos ? placeholderText(rng, budget) : placeholderText(rng), budget, stop);
      const echo = request.echo ? prompt.text : "";
      spent.spend(output.tokens.length + (request.echo ? prompt.tokens : 0));
      const logprobs = request.logprobs == null ? null : completionLogprobs(choiceSeed, [...tokenize(echo), ...output.tokens], request.logprobs);
      choices.push({ index: p * n + i, echo, output, logprobs });
    }
  }
  const lengths = choices.map((choice) => choice.output.tokens.length);
  return {
    promptTokens: list.reduce((sum, prompt) => sum + prompt.tokens, 0),
    completionTokens: lengths.reduce((sum, length) => sum + length, 0),
    choices,
    steps: Math.max(0, ...lengths),
  };
}

/** OpenAI's CreateCompletionResponse. */
export function completionResponse(plan: CompletionPlan, meta: ResponseMeta) {
  return {
    id: meta.id,
    object: "text_completion" as const,
    created: meta.created,
    model: meta.model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: plan.choices.map((choice) => ({
      index: choice.index,
      text: choice.echo + choice.output.text,
      logprobs: choice.logprobs,
      finish_reason: choice.output.finishReason,
    })),
    usage: usage(plan.promptTokens, plan.completionTokens),
  };
}

/**
 * Streamed completions: CreateCompletionResponse-shaped chunks with one token
 * of one choice each (the echoed prompt first, unpaced), `finish_reason: null`
 * until each choice's last chunk, and with `include_usage` a last chunk with
 * empty choices and the usage.
 */
export function* completionStreamEvents(plan: CompletionPlan, meta: ResponseMeta, includeUsage: boolean): Generator<StreamEvent> {
  // Unlike chat chunks, these leave `usage` out until the last one: the schema has no null for it.
  const chunk = (choices: unknown[], usageValue?: ReturnType<typeof usage>) => ({
    id: meta.id,
    object: "text_completion" as const,
    created: meta.created,
    model: meta.model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices,
    ...(usageValue ? { usage: usageValue } : {}),
  });
  const tokenLogprobs = (choice: CompletionChoicePlan, from: number, count: number): CompletionLogprobs | null =>
    choice.logprobs && {
      tokens: choice.logprobs.tokens.slice(from, from + count),
      token_logprobs: choice.logprobs.token_logprobs.slice(from, from + count),
      top_logprobs: choice.logprobs.top_logprobs.slice(from, from + count),
      text_offset: choice.logprobs.text_offset.slice(from, from + count),
    };
  const echoed = plan.choices.map((choice) => tokenize(choice.echo).length);
  for (const [position, choice] of plan.choices.entries()) {
    if (!choice.echo) continue;
    yield {
      data: chunk([{ index: choice.index, text: choice.echo, logprobs: tokenLogprobs(choice, 0, echoed[position]!), finish_reason: null }]),
      paced: false,
    };
  }
  for (let step = 0; step < plan.steps; step++) {
    let first = true;
    for (const [position, choice] of plan.choices.entries()) {
      const token = choice.output.tokens[step];
      if (token === undefined) continue;
      const logprobs = tokenLogprobs(choice, echoed[position]! + step, 1);
      yield { data: chunk([{ index: choice.index, text: token, logprobs, finish_reason: null }]), paced: first };
      first = false;
    }
  }
  for (const choice of plan.choices) {
    yield { data: chunk([{ index: choice.index, text: "", logprobs: null, finish_reason: choice.output.finishReason }]), paced: false };
  }
  if (includeUsage) yield { data: chunk([], usage(plan.promptTokens, plan.completionTokens)), paced: false };
}

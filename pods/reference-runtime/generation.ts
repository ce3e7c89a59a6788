import { badRequest } from "./errors";

/** What every generation endpoint needs from the runtime's configuration. */
export interface GenerationContext {
  servedModelName: string;
  maxModelLen: number;
}

/** Identifies a response; `created` is in seconds, as OpenAI's are. */
export interface ResponseMeta {
  id: string;
  created: number;
  model: string;
}

/** Marks every answer as this runtime's in a field OpenAI clients keep. */
export const SYSTEM_FINGERPRINT = "fp_qdz_reference_runtime";

export function usage(promptTokens: number, completionTokens: number) {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

/**
 * The token budget of an answer: what was asked, or what the context has left.
 * A prompt that does not fit, or a request asking for more than fits, is a 400
 * as with vLLM.
 */
export function tokenBudget(promptTokens: number, requested: number | null | undefined, maxModelLen: number, param: string): number {
  if (promptTokens >= maxModelLen) {
    throw badRequest(
      `This model's maximum context length is ${maxModelLen} tokens, but the prompt has ${promptTokens} tokens.`,
      "messages",
      "context_length_exceeded",
    );
  }
  if (requested == null) return maxModelLen - promptTokens;
  if (promptTokens + requested > maxModelLen) {
    throw badRequest(
      `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${promptTokens + requested} tokens (${promptTokens} in the prompt, ${requested} for the completion).`,
      param,
      "context_length_exceeded",
    );
  }
  return requested;
}

export function stopList(stop: string | string[] | null | undefined): string[] {
  if (stop == null) return [];
  return typeof stop === "string" ? [stop] : stop;
}

/**
 * How much one request may make the runtime build, counted in tokens with
 * each logprob alternative as one more: a bound on memory (n=128 × 4096
 * tokens × 20 alternatives would be gigabytes), not a claim about models.
 */
export const MAX_GENERATED_UNITS = 262_144;

export class GenerationBudget {
  #used = 0;

  constructor(private readonly unitsPerToken: number) {}

  /** Counts a choice's tokens; past the bound the request is a 400. */
  spend(tokens: number): void {
    this.#used += tokens * this.unitsPerToken;
    this.ensure(0);
  }

  /** Refuses up front what is known to be too much (ignore_eos runs every choice to its limit). */
  ensure(tokens: number): void {
    if (this.#used + tokens * this.unitsPerToken > MAX_GENERATED_UNITS) {
      throw badRequest(
        `This request would generate more than the reference runtime's limit of ${MAX_GENERATED_UNITS} tokens (logprob alternatives included); lower n, max_tokens or top_logprobs.`,
        "n",
        "request_too_large",
      );
    }
  }
}

import { rngFor } from "./hash";
import { WORDS } from "./text";

/** OpenAI's ChatCompletionTokenLogprob. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

const encoder = new TextEncoder();

/**
 * Deterministic log-probabilities for each token of an output: the chosen token
 * is always the most likely, and the `top` alternatives are other placeholder
 * words with the same leading whitespace, in decreasing order.
 */
export function tokenLogprobs(seed: string, tokens: readonly string[], top: number): TokenLogprob[] {
  return tokens.map((token, position) => {
    const rng = rngFor(seed, "logprob", String(position), token);
    const logprob = round(-(rng.next() ** 2) * 2.5);
    const alternatives: TokenLogprob["top_logprobs"] = [{ token, logprob, bytes: bytesOf(token) }];
    const space = /^\s*/.exec(token)?.[0] ?? "";
    let next = logprob;
    while (alternatives.length < top) {
      const candidate = space + rng.pick(WORDS);
      if (alternatives.some((alternative) => alternative.token === candidate)) continue;
      next = round(next - 0.25 - rng.next() * 1.5);
      alternatives.push({ token: candidate, logprob: next, bytes: bytesOf(candidate) });
    }
    return { token, logprob, bytes: bytesOf(token), top_logprobs: alternatives.slice(0, top) };
  });
}

/** The legacy completions API's logprobs object for one choice. */
export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Record<string, number>[];
  text_offset: number[];
}

export function completionLogprobs(seed: string, tokens: readonly string[], top: number, startOffset = 0): CompletionLogprobs {
  const detailed = tokenLogprobs(seed, tokens, Math.max(1, top));
  const offsets: number[] = [];
  let offset = startOffset;
  for (const token of tokens) {
    offsets.push(offset);
    offset += token.length;
  }
  return {
    tokens: [...tokens],
    token_logprobs: detailed.map((entry) => entry.logprob),
    top_logprobs: detailed.map((entry) =>
      Object.fromEntries(entry.top_logprobs.slice(0, Math.max(1, top)).map((alternative) => [alternative.token, alternative.logprob])),
    ),
    text_offset: offsets,
  };
}

function bytesOf(token: string): number[] {
  return Array.from(encoder.encode(token));
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

import type { Rng } from "./hash";

/** Every placeholder answer starts with this, so nobody mistakes it for a model's output. */
export const REFERENCE_PREFIX = "[reference runtime]";

/** The vocabulary of placeholder text: plain, inoffensive, and obviously not an answer. */
export const WORDS = [
  "amber",
  "anchor",
  "arrow",
  "autumn",
  "beacon",
  "birch",
  "bridge",
  "canyon",
  "cedar",
  "cobalt",
  "comet",
  "copper",
  "coral",
  "crystal",
  "delta",
  "desert",
  "ember",
  "falcon",
  "fern",
  "field",
  "forest",
  "galaxy",
  "garden",
  "glacier",
  "granite",
  "harbor",
  "hazel",
  "horizon",
  "island",
  "ivory",
  "jasper",
  "juniper",
  "lagoon",
  "lantern",
  "maple",
  "meadow",
  "meteor",
  "mineral",
  "monsoon",
  "nebula",
  "nectar",
  "oak",
  "ocean",
  "orbit",
  "orchid",
  "pebble",
  "pine",
  "planet",
  "prairie",
  "quartz",
  "rain",
  "raven",
  "reef",
  "river",
  "saffron",
  "sage",
  "signal",
  "silver",
  "spruce",
  "summit",
  "thunder",
  "tide",
  "timber",
  "topaz",
  "tundra",
  "valley",
  "velvet",
  "willow",
  "winter",
  "zephyr",
] as const;

/**
 * A token is a run of letters/digits or a single other character, with the
 * whitespace before it. Joining a text's tokens gives the text back, which the
 * streaming and stop-sequence code rely on. Prompts and outputs are counted the
 * same way, so usage is roughly "words and punctuation".
 */
const TOKEN = /\s*(?:[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_])|\s+$/gu;

export function tokenize(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

export function countTokens(text: string): number {
  return tokenize(text).length;
}

/** Sentences of placeholder words after the prefix; `words` defaults to a few dozen. */
export function placeholderText(rng: Rng, words: number = rng.int(24, 48)): string {
  const out: string[] = [REFERENCE_PREFIX];
  let inSentence = 0;
  let sentenceLength = rng.int(5, 12);
  for (let i = 0; i < words; i++) {
    let word: string = rng.pick(WORDS);
    if (inSentence === 0) word = word[0]!.toUpperCase() + word.slice(1);
    inSentence++;
    if (inSentence === sentenceLength || i === words - 1) {
      word += ".";
      inSentence = 0;
      sentenceLength = rng.int(5, 12);
    }
    out.push(word);
  }
  return out.join(" ");
}

export type FinishReason = "stop" | "length";

/** What was "generated" for one choice once the token limit and stop sequences had their say. */
export interface Output {
  tokens: string[];
  text: string;
  finishReason: FinishReason;
}

/**
 * Cuts a natural output at `maxTokens` tokens, then at the first stop sequence
 * in what is left (the stop sequence itself is not returned, as in OpenAI's API).
 */
export function limitOutput(natural: string, maxTokens: number, stop: readonly string[] = []): Output {
  const all = tokenize(natural);
  let tokens = all.slice(0, Math.max(0, maxTokens));
  let finishReason: FinishReason = tokens.length < all.length ? "length" : "stop";
  let text = tokens.join("");
  const cut = firstStop(text, stop);
  if (cut !== undefined) {
    finishReason = "stop";
    text = text.slice(0, cut);
    tokens = retokenize(tokens, cut);
  }
  return { tokens, text, finishReason };
}

function firstStop(text: string, stop: readonly string[]): number | undefined {
  let first: number | undefined;
  for (const sequence of stop) {
    if (sequence === "") continue;
    const at = text.indexOf(sequence);
    if (at >= 0 && (first === undefined || at < first)) first = at;
  }
  return first;
}

/** The tokens that make up the first `length` characters, the last one shortened if needed. */
function retokenize(tokens: readonly string[], length: number): string[] {
  const out: string[] = [];
  let used = 0;
  for (const token of tokens) {
    if (used >= length) break;
    const piece = token.slice(0, length - used);
    out.push(piece);
    used += piece.length;
  }
  return out;
}

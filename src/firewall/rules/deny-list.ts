import { type Span, spansOf } from "./spans";

const cache = new WeakMap<readonly string[], RegExp>();

function escapeRegExp(term: string): string {
  return term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * One pattern for the whole list, longest terms first so "credit card number"
 * wins over "credit card". Whole words: no letter, digit or `_` may touch
 * either end, in any script.
 */
function patternFor(terms: readonly string[]): RegExp {
  let pattern = cache.get(terms);
  if (!pattern) {
    const alternatives = [...terms].sort((a, b) => b.length - a.length).map((t) => escapeRegExp(t.trim()).split(/\s+/).join("\\s+"));
    pattern = new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alternatives.join("|")})(?![\\p{L}\\p{N}_])`, "giu");
    cache.set(terms, pattern);
  }
  return pattern;
}

export function findDenied(text: string, terms: readonly string[]): Span[] {
  return spansOf(patternFor(terms), text);
}

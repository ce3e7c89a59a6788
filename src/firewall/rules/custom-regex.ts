import type { Span } from "./spans";

const compiled = new Map<string, RegExp>();

function compile(pattern: string, caseInsensitive: boolean): RegExp {
  const key = `${caseInsensitive ? "i" : "-"}${pattern}`;
  let re = compiled.get(key);
  if (!re) {
    // Bounded: patterns come from rules, and a busy api sees the same few.
    if (compiled.size > 1000) compiled.clear();
    re = new RegExp(pattern, caseInsensitive ? "giu" : "gu");
    compiled.set(key, re);
  }
  return re;
}

/**
 * A saved custom pattern (already refused if it could backtrack
 * exponentially). The engine has no time limit, so each check sees at most
 * `maxInputChars` characters: long texts are scanned in windows that overlap
 * by a quarter, which bounds polynomial backtracking (`\d+\d+x`) per window
 * while still finding matches shorter than the overlap anywhere in the text.
 */
export function findCustom(text: string, options: { pattern: string; caseInsensitive: boolean; maxInputChars: number }): Span[] {
  const re = compile(options.pattern, options.caseInsensitive);
  const window = options.maxInputChars;
  const step = text.length <= window ? window : window - Math.floor(window / 4);
  const spans: Span[] = [];
  for (let offset = 0; offset < text.length; offset += step) {
    const slice = text.slice(offset, offset + window);
    re.lastIndex = 0;
    for (const match of slice.matchAll(re)) {
      if (match[0].length === 0) continue;
      spans.push({ start: offset + match.index, end: offset + match.index + match[0].length });
    }
    if (offset + window >= text.length) break;
  }
  return spans;
}

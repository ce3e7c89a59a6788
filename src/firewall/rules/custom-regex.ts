import type { RE2JS } from "re2js";
import { compileCustom } from "./re2-syntax";
import type { ScanBudget } from "./scan-budget";
import type { Span } from "./spans";

/** Why a custom pattern did not read all of a text. */
export type Unscreened = "budget" | "pattern";

export interface CustomScan {
  spans: Span[];
  /** Set when part of the text went unread: the caller must not take "no spans" for "clean". */
  unscreened?: Unscreened;
}

/** A pattern compiled (or refused), and what compiling it cost: saving a firewall is bounded by that. */
export type CompiledPattern = { re: RE2JS } | { refusal: string };

const MAX_COMPILED = 1000;
const compiledPatterns = new Map<string, CompiledPattern>();

/**
 * One cache for saving and screening, so a pattern is compiled once per
 * process: when its firewall is saved, then by every prompt. Bounded, oldest
 * out: a busy api sees the same few patterns.
 */
export function compiledPattern(pattern: string, caseInsensitive: boolean): CompiledPattern {
  const key = `${caseInsensitive ? "i" : "-"}${pattern}`;
  let compiled = compiledPatterns.get(key);
  if (!compiled) {
    compiled = compileCustom(pattern, caseInsensitive);
    if (compiledPatterns.size >= MAX_COMPILED) compiledPatterns.delete(compiledPatterns.keys().next().value!);
    compiledPatterns.set(key, compiled);
  }
  return compiled;
}

/**
 * What one window may cost at worst, in characters × instructions: RE2 may
 * keep every instruction live at every character, ~100 ns each here, so
 * about 0.1 s. With at most 250 instructions a window is still ≥ 4,000
 * characters; most patterns take tens and read their whole `maxInputChars`.
 */
const WINDOW_WORK = 1_000_000;

/**
 * A saved custom pattern, matched by RE2 in time linear in the text. A text
 * that fits one window is read in one pass; a longer one in windows
 * overlapping by a quarter (so a match shorter than the overlap is found
 * anywhere). Windows are not about backtracking any more: one RE2 pass cannot
 * be interrupted, so a window is the unit between checks of the prompt's
 * budget, sized by `maxInputChars` and by what the pattern costs per character.
 */
export function findCustom(text: string, options: { pattern: string; caseInsensitive: boolean; maxInputChars: number }, budget: ScanBudget): CustomScan {
  const spans: Span[] = [];
  const compiled = compiledPattern(options.pattern, options.caseInsensitive);
  // Saved before patterns were RE2 (or before the size limit): not run, and said so.
  if (!("re" in compiled)) return { spans, unscreened: "pattern" };
  const { re } = compiled;
  const window = Math.min(options.maxInputChars, Math.max(64, Math.floor(WINDOW_WORK / re.programSize())));
  const step = text.length <= window ? window : window - Math.floor(window / 4);
  for (let offset = 0; offset < text.length; offset += step) {
    const slice = text.slice(offset, offset + window);
    if (!budget.take(slice.length)) return { spans, unscreened: "budget" };
    // Most windows match nothing: the test runs on RE2's DFA, much faster than finding positions.
    if (re.test(slice)) {
      const matcher = re.matcher(slice);
      while (matcher.find()) {
        if (matcher.end() > matcher.start()) spans.push({ start: offset + matcher.start(), end: offset + matcher.end() });
      }
    }
    if (offset + window >= text.length) break;
  }
  return { spans };
}

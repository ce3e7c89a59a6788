import { RE2JS, RE2JSSyntaxException } from "re2js";

/**
 * Custom patterns are RE2 syntax, matched by re2js in time linear in the text:
 * no backreferences and no lookaround, whatever else the pattern does. One
 * departure, so that patterns saved in JavaScript syntax keep their meaning
 * and a no-break space cannot slip past `\s+`: `\s` is JavaScript's
 * whitespace (Unicode spaces, `\v`, U+FEFF), not RE2's ASCII `[\t\n\f\r ]`.
 */
const RE2_SYNTAX = "Custom patterns use RE2 syntax (github.com/google/re2/wiki/Syntax): no lookaround or backreferences, so matching stays linear.";

/**
 * The most RE2 instructions one pattern may compile to. RE2's worst case is
 * every instruction live at every character (~100 ns each here), so this and
 * the window (`findCustom`) bound what one uninterrupted scan costs. Ordinary
 * patterns take tens; a counted repeat copies what it repeats.
 */
export const MAX_PATTERN_INSTRUCTIONS = 250;

const whitespace = "\\t-\\r\\x{20}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}";
// The complement, spelled out: a class cannot hold a negated class (`[\S\d]`).
const nonWhitespace =
  "\\x{0}-\\x{8}\\x{e}-\\x{1f}\\x{21}-\\x{9f}\\x{a1}-\\x{167f}\\x{1681}-\\x{1fff}\\x{200b}-\\x{2027}\\x{202a}-\\x{202e}\\x{2030}-\\x{205e}\\x{2060}-\\x{2fff}\\x{3001}-\\x{fefe}\\x{ff00}-\\x{10ffff}";

/**
 * The pattern with `\s` and `\S` spelled as JavaScript reads them. Walks the
 * pattern as RE2's parser does: escapes are pairs, `\Q…\E` is literal, and a
 * class runs to its `]` (a leading `]` and `[:alpha:]` belong to it). On a
 * pattern RE2 refuses the rewrite may be odd, but RE2 refuses it just the same.
 */
export function re2Source(pattern: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    const next = pattern[i + 1];
    if (char === "\\" && next === "Q" && !inClass) {
      const end = pattern.indexOf("\\E", i + 2);
      const stop = end < 0 ? pattern.length : end + 2;
      out += pattern.slice(i, stop);
      i = stop - 1;
    } else if (char === "\\") {
      if (next === "s") out += inClass ? whitespace : `[${whitespace}]`;
      else if (next === "S") out += inClass ? nonWhitespace : `[^${whitespace}]`;
      else out += char + (next ?? "");
      i++;
      // After a class escape `-` is a literal (`[\s-a]`), but after the ranges written in its place it would start a range.
      if (inClass && (next === "s" || next === "S") && pattern[i + 1] === "-") {
        out += "\\-";
        i++;
      }
    } else if (inClass) {
      const posixEnd = char === "[" && next === ":" ? pattern.indexOf(":]", i + 2) : -1;
      if (posixEnd >= 0) {
        out += pattern.slice(i, posixEnd + 2);
        i = posixEnd + 1;
        continue;
      }
      if (char === "]") inClass = false;
      out += char;
    } else if (char === "[") {
      inClass = true;
      let start = "[";
      if (pattern[i + 1] === "^") start += pattern[++i];
      if (pattern[i + 1] === "]") start += pattern[++i];
      out += start;
    } else {
      out += char;
    }
  }
  return out;
}

/** The pattern as evaluation runs it, or why it cannot be saved (or, saved before, run). */
export function compileCustom(pattern: string, caseInsensitive: boolean): { re: RE2JS } | { refusal: string } {
  const flags = caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0;
  const source = re2Source(pattern);
  let re: RE2JS;
  try {
    re = RE2JS.compile(source, flags);
  } catch (error) {
    return { refusal: `${syntaxRefusal(source === pattern ? error : (compileError(pattern, flags) ?? error))} ${RE2_SYNTAX}` };
  }
  const instructions = re.programSize();
  if (instructions > MAX_PATTERN_INSTRUCTIONS) {
    return {
      refusal: `This pattern compiles to ${instructions} RE2 instructions; the most is ${MAX_PATTERN_INSTRUCTIONS}. A counted repeat copies what it repeats (\`\\w{300}\` is 300): use \`+\` or a smaller count.`,
    };
  }
  return { re };
}

/** The error of the pattern as written, so a refusal quotes the user's text rather than the rewrite of `\s`. */
function compileError(pattern: string, flags: number): unknown {
  try {
    RE2JS.compile(pattern, flags);
    return null;
  } catch (error) {
    return error;
  }
}

/** Why a pattern cannot be saved, or null: `compileCustom` for a caller that needs only the verdict. */
export function re2Refusal(pattern: string): string | null {
  const compiled = compileCustom(pattern, false);
  return "refusal" in compiled ? compiled.refusal : null;
}

/** What RE2 cannot express is named, since people write patterns in JavaScript or PCRE syntax; else RE2's own complaint. */
function syntaxRefusal(error: unknown): string {
  if (!(error instanceof RE2JSSyntaxException)) return `Not a pattern RE2 can compile: ${(error as Error).message}.`;
  const fragment = error.input ?? "";
  if (/^\\[1-9]/.test(fragment)) return `\`${fragment.slice(0, 2)}\` is a backreference, which is not supported.`;
  if (fragment.startsWith("\\k")) return "`\\k<name>` is a named backreference, which is not supported.";
  if (fragment.startsWith("(?=") || fragment.startsWith("(?!")) return `\`${fragment.slice(0, 3)}\` is a lookahead, which is not supported.`;
  if (fragment.startsWith("(?<=") || fragment.startsWith("(?<!")) return `\`${fragment.slice(0, 4)}\` is a lookbehind, which is not supported.`;
  if (fragment.startsWith("\\u")) return "`\\u` escapes are JavaScript syntax: write a code point as `\\x{263A}`.";
  return `Not RE2 syntax: ${error.error}${fragment ? ` at \`${fragment}\`` : ""}.`;
}

/** How many Unicode property classes (`\p…`, `\P…`) a pattern names; an escaped backslash (`\\p`) is a literal, not one. */
export function unicodeClassCount(pattern: string): number {
  let count = 0;
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== "\\") continue;
    const next = pattern[i + 1];
    if (next === "p" || next === "P") count++;
    i++; // whatever follows a backslash is escaped
  }
  return count;
}

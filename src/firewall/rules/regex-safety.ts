import safeRegex from "safe-regex2";

/**
 * Why a custom pattern is refused at save time, or null when it may be saved.
 * safe-regex2 catches nested quantifiers (`(a+)+`, `(.*)*`: star height > 1);
 * it misses overlapping alternatives under a quantifier (`(a|ab)*`,
 * `(\w|\d)+`), which backtrack just as badly, so those are checked here:
 * under an unbounded quantifier, every alternative must start with its own
 * literal character. Conservative by design: a refused pattern can be rewritten.
 */
export function regexRefusal(pattern: string): string | null {
  try {
    new RegExp(pattern, "u");
  } catch (error) {
    return `Not a valid regular expression: ${(error as Error).message}`;
  }
  if (!safeRegex(pattern)) return "This pattern nests quantifiers (like (a+)+ or (.*)*) and could take exponential time; rewrite it without a repeated group of repeats.";
  const overlap = overlappingAlternation(pattern);
  if (overlap) return `The repeated group '${overlap}' has alternatives that can match the same text and could take exponential time; make each alternative start with a different literal character.`;
  const adjacent = adjacentOverlappingRepeats(pattern);
  if (adjacent) return `'${adjacent}' repeats the same characters twice in a row and could take polynomial time on long prompts; merge them into one repeat.`;
  return null;
}

/** Broad atoms that overlap almost anything. */
const broadAtoms = new Set([".", "\\S", "\\W", "\\D"]);

function atomsOverlap(a: string, b: string): boolean {
  if (a === b || broadAtoms.has(a) || broadAtoms.has(b) || a.startsWith("[^") || b.startsWith("[^")) return true;
  const pair = new Set([a, b]);
  return pair.has("\\w") && (pair.has("\\d") || /^[A-Za-z0-9_]$/.test(a === "\\w" ? b : a));
}

/**
 * Two unbounded repeats of overlapping atoms side by side (`\d+\d+`, `.*.*`,
 * `\w+\d*`): each extra one multiplies the ways to split the input, so the
 * scan costs n² or worse per start position. Heuristic: atoms are compared
 * by text, with the broad classes taken to overlap everything.
 */
function adjacentOverlappingRepeats(pattern: string): string | null {
  let previous: { atom: string; start: number } | null = null;
  for (let i = 0; i < pattern.length; ) {
    const start = i;
    let atom: string;
    if (pattern[i] === "\\") atom = pattern.slice(i, i + 2);
    else if (pattern[i] === "[") atom = pattern.slice(i, endOfClass(pattern, i) + 1);
    else atom = pattern[i]!;
    i += atom.length;
    const quantifier = /^(?:[*+]|\{\d+,\d*\})\??/.exec(pattern.slice(i));
    const unbounded = quantifier !== null && isUnboundedQuantifier(pattern, i);
    if (quantifier) i += quantifier[0].length;
    if (!unbounded || "()|".includes(atom)) {
      previous = null;
      continue;
    }
    if (previous && atomsOverlap(previous.atom, atom)) return pattern.slice(previous.start, i);
    previous = { atom, start };
  }
  return null;
}

interface OpenGroup {
  start: number;
  contentStart: number;
  bars: number[];
}

/** The first quantified group whose alternatives may overlap, as source text. */
function overlappingAlternation(pattern: string): string | null {
  const stack: OpenGroup[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === "\\") {
      i++;
    } else if (char === "[") {
      i = endOfClass(pattern, i);
    } else if (char === "(") {
      stack.push({ start: i, contentStart: i + groupPrefixLength(pattern, i), bars: [] });
    } else if (char === "|") {
      stack.at(-1)?.bars.push(i);
    } else if (char === ")") {
      const group = stack.pop();
      if (!group || group.bars.length === 0 || !isUnboundedQuantifier(pattern, i + 1)) continue;
      const bounds = [group.contentStart - 1, ...group.bars, i];
      const firsts = new Set<string>();
      for (let b = 0; b + 1 < bounds.length; b++) {
        const first = literalFirstChar(pattern.slice(bounds[b]! + 1, bounds[b + 1]!));
        if (first === null || firsts.has(first)) return pattern.slice(group.start, i + 2);
        firsts.add(first);
      }
    }
  }
  return null;
}

function endOfClass(pattern: string, open: number): number {
  for (let i = open + 1; i < pattern.length; i++) {
    if (pattern[i] === "\\") i++;
    else if (pattern[i] === "]") return i;
  }
  return pattern.length;
}

/** `(`, `(?:`, `(?=`, `(?!`, `(?<=`, `(?<!`, `(?<name>`: where the group's content starts. */
function groupPrefixLength(pattern: string, open: number): number {
  if (pattern[open + 1] !== "?") return 1;
  const next = pattern[open + 2];
  if (next === ":" || next === "=" || next === "!") return 3;
  if (next === "<" && (pattern[open + 3] === "=" || pattern[open + 3] === "!")) return 4;
  if (next === "<") return pattern.indexOf(">", open) - open + 1;
  return 2;
}

function isUnboundedQuantifier(pattern: string, at: number): boolean {
  const char = pattern[at];
  if (char === "*" || char === "+") return true;
  if (char !== "{") return false;
  const match = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(at));
  // {n,} and large bounds repeat enough to blow up; {n} and small {n,m} do not.
  return match !== null && match[2] !== undefined && (match[3] === "" || Number(match[3]) > 10);
}

/** The literal character an alternative must start with, or null when it starts with a class, a group or nothing. */
function literalFirstChar(alternative: string): string | null {
  const first = alternative[0];
  if (first === undefined || "[(.^$".includes(first)) return null;
  if (first === "\\") {
    const escaped = alternative[1];
    if (escaped === undefined || /[dDwWsSbBpPuxck0-9]/.test(escaped)) return null;
    return escaped.toLowerCase();
  }
  // A quantifier straight after the first character makes it optional: "a*b|b" overlaps.
  if ("*?{".includes(alternative[1] ?? "")) return null;
  return first.toLowerCase();
}

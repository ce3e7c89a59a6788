/** A match inside one text: [start, end) in UTF-16 code units. */
export interface Span {
  start: number;
  end: number;
}

/** Every match of a global `pattern`, kept when `accept` (a checksum, a shape test) says it is real. */
export function spansOf(pattern: RegExp, text: string, accept: (match: string) => Span | boolean = () => true): Span[] {
  // Most prompts match nothing: one scan with no iterator or match objects settles that (the /v1 hot path).
  pattern.lastIndex = 0;
  if (!pattern.test(text)) return [];
  const spans: Span[] = [];
  pattern.lastIndex = 0;
  for (const match of text.matchAll(pattern)) {
    const verdict = accept(match[0]);
    if (verdict === true) spans.push({ start: match.index, end: match.index + match[0].length });
    // A detector may keep only part of a match (a card number followed by a year).
    else if (verdict !== false) spans.push({ start: match.index + verdict.start, end: match.index + verdict.end });
  }
  return spans;
}

/** Sorted, overlapping spans merged: what redaction replaces. */
export function mergeSpans(spans: Span[]): Span[] {
  if (spans.length === 0) return spans;
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Span[] = [];
  for (const span of sorted) {
    const last = merged.at(-1);
    if (last && span.start < last.end) last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  return merged;
}

/** A phrase whose spaces match any run of whitespace, case-insensitively. */
export function phrase(source: string): string {
  return source.trim().split(/\s+/).join("\\s+");
}

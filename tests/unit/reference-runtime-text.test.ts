import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { digest, rngFor, stableJson } from "../../pods/reference-runtime/hash";
import { completionLogprobs, tokenLogprobs } from "../../pods/reference-runtime/logprobs";
import { countTokens, limitOutput, placeholderText, REFERENCE_PREFIX, tokenize, WORDS } from "../../pods/reference-runtime/text";

describe("hashing", () => {
  test("the same parts give the same digest; part boundaries count", () => {
    expect(digest("a", "b")).toEqual(digest("a", "b"));
    expect(digest("ab", "c")).not.toEqual(digest("a", "bc"));
  });

  test("stableJson ignores key order but not array order", () => {
    expect(stableJson({ a: 1, b: { c: 2, d: 3 } })).toBe(stableJson({ b: { d: 3, c: 2 }, a: 1 }));
    expect(stableJson([1, 2])).not.toBe(stableJson([2, 1]));
    expect(stableJson(undefined)).toBe("null");
  });

  test("a PRNG's stream is fixed by its seed and stays in range", () => {
    const first = rngFor("seed");
    const second = rngFor("seed");
    const a = Array.from({ length: 100 }, () => first.next());
    expect(Array.from({ length: 100 }, () => second.next())).toEqual(a);
    expect(a.every((x) => x >= 0 && x < 1)).toBe(true);
    const ints = Array.from({ length: 1000 }, () => first.int(3, 5));
    expect(new Set(ints)).toEqual(new Set([3, 4, 5]));
    expect(rngFor("other").next()).not.toBe(rngFor("seed").next());
  });
});

describe("tokenize", () => {
  test("splits words and punctuation, keeping the whitespace before each", () => {
    expect(tokenize("[reference runtime] Oak, pine.")).toEqual(["[", "reference", " runtime", "]", " Oak", ",", " pine", "."]);
    expect(tokenize("")).toEqual([]);
    expect(tokenize("  trailing  ")).toEqual(["  trailing", "  "]);
    expect(countTokens("héllo wörld 42")).toBe(3);
  });

  test("joining the tokens gives any text back", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => tokenize(text).join("") === text),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string(), (text) => tokenize(text).join("") === text),
      { numRuns: 500 },
    );
  });
});

describe("placeholderText", () => {
  test("starts with the reference prefix and uses only the word list", () => {
    const text = placeholderText(rngFor("x"));
    expect(text.startsWith(`${REFERENCE_PREFIX} `)).toBe(true);
    const words =
      text
        .slice(REFERENCE_PREFIX.length)
        .toLowerCase()
        .match(/[a-z]+/g) ?? [];
    expect(words.length).toBeGreaterThanOrEqual(24);
    expect(words.length).toBeLessThanOrEqual(48);
    for (const word of words) expect(WORDS).toContain(word as (typeof WORDS)[number]);
    expect(text.endsWith(".")).toBe(true);
  });

  test("is deterministic and differs between seeds", () => {
    expect(placeholderText(rngFor("a"))).toBe(placeholderText(rngFor("a")));
    expect(placeholderText(rngFor("a"))).not.toBe(placeholderText(rngFor("b")));
    // The prefix is two words, then the 500 asked for.
    expect(placeholderText(rngFor("a"), 500).split(" ").length).toBe(502);
  });
});

describe("limitOutput", () => {
  const natural = "[reference runtime] Oak pine maple. River tide.";

  test("a limit above the output's length finishes with stop", () => {
    expect(limitOutput(natural, 1000)).toEqual({ tokens: tokenize(natural), text: natural, finishReason: "stop" });
  });

  test("a smaller limit keeps that many tokens and finishes with length", () => {
    const out = limitOutput(natural, 5);
    expect(out.tokens).toEqual(["[", "reference", " runtime", "]", " Oak"]);
    expect(out.text).toBe("[reference runtime] Oak");
    expect(out.finishReason).toBe("length");
  });

  test("a stop sequence cuts the text before it, even inside a token", () => {
    const out = limitOutput(natural, 1000, ["ple."]);
    expect(out.text).toBe("[reference runtime] Oak pine ma");
    expect(out.tokens.join("")).toBe(out.text);
    expect(out.tokens.at(-1)).toBe(" ma");
    expect(out.finishReason).toBe("stop");
  });

  test("the earliest of several stop sequences wins; empty ones are ignored", () => {
    expect(limitOutput(natural, 1000, ["River", "", "pine"]).text).toBe("[reference runtime] Oak ");
  });

  test("a stop sequence past the token limit does not apply", () => {
    const out = limitOutput(natural, 5, ["River"]);
    expect(out.finishReason).toBe("length");
    expect(out.text).toBe("[reference runtime] Oak");
  });

  test("a stop sequence at the very start leaves nothing", () => {
    expect(limitOutput(natural, 1000, ["["])).toEqual({ tokens: [], text: "", finishReason: "stop" });
  });

  test("text never contains a stop sequence and is always a prefix of the natural output", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 80 }),
        fc.integer({ min: 0, max: 40 }),
        fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
        (text, limit, stop) => {
          const out = limitOutput(text, limit, stop);
          expect(text.startsWith(out.text)).toBe(true);
          expect(out.tokens.join("")).toBe(out.text);
          expect(out.tokens.length).toBeLessThanOrEqual(limit);
          for (const sequence of stop) if (sequence) expect(out.text.includes(sequence)).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("logprobs", () => {
  test("chat logprobs: chosen token first, alternatives distinct and decreasing", () => {
    const tokens = tokenize("[reference runtime] Oak pine.");
    const entries = tokenLogprobs("seed", tokens, 5);
    expect(entries.map((entry) => entry.token)).toEqual(tokens);
    for (const entry of entries) {
      expect(entry.logprob).toBeLessThanOrEqual(0);
      expect(entry.bytes).toEqual(Array.from(new TextEncoder().encode(entry.token)));
      expect(entry.top_logprobs).toHaveLength(5);
      expect(entry.top_logprobs[0]).toEqual({ token: entry.token, logprob: entry.logprob, bytes: entry.bytes });
      expect(new Set(entry.top_logprobs.map((top) => top.token)).size).toBe(5);
      const values = entry.top_logprobs.map((top) => top.logprob);
      expect(values).toEqual([...values].sort((a, b) => b - a));
    }
    expect(tokenLogprobs("seed", tokens, 5)).toEqual(entries);
    expect(tokenLogprobs("seed", tokens, 0).every((entry) => entry.top_logprobs.length === 0)).toBe(true);
  });

  test("completion logprobs: parallel lists and text offsets", () => {
    const tokens = ["Hello", " oak", "."];
    const out = completionLogprobs("seed", tokens, 2);
    expect(out.tokens).toEqual(tokens);
    expect(out.token_logprobs).toHaveLength(3);
    expect(out.text_offset).toEqual([0, 5, 9]);
    expect(out.top_logprobs.every((top) => Object.keys(top).length === 2)).toBe(true);
    expect(out.top_logprobs[1]![" oak"]).toBe(out.token_logprobs[1]!);
  });
});

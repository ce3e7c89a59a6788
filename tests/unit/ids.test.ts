import { describe, expect, test } from "bun:test";
import { newId, randomBase62 } from "../../src/ids";

describe("prefixed ids", () => {
  test("carry their kind's prefix and 20 base62 characters", () => {
    expect(newId("account")).toMatch(/^acct_[0-9A-Za-z]{20}$/);
    expect(newId("user")).toMatch(/^usr_[0-9A-Za-z]{20}$/);
    expect(newId("apiKey")).toMatch(/^key_[0-9A-Za-z]{20}$/);
  });

  test("do not repeat", () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newId("session")));
    expect(ids.size).toBe(10_000);
  });
});

describe("randomBase62", () => {
  test("uses every character of the alphabet, roughly evenly", () => {
    const counts = new Map<string, number>();
    for (const char of randomBase62(62_000)) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // 1000 expected per character; a modulo bias would push the first ones far above.
    for (const n of counts.values()) expect(n).toBeWithin(820, 1180);
  });
});

import { expect, test } from "bun:test";
import { constantTimeEqual, newSecret, sha256Hex } from "../../src/auth/secrets";

test("secrets are the prefix and 43 base62 characters (over 256 bits)", () => {
  expect(newSecret("qdz_")).toMatch(/^qdz_[0-9A-Za-z]{43}$/);
  expect(43 * Math.log2(62)).toBeGreaterThan(256);
});

test("sha256Hex matches the standard digest", () => {
  expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

test("constantTimeEqual compares contents, whatever the lengths", () => {
  expect(constantTimeEqual("abc", "abc")).toBe(true);
  expect(constantTimeEqual("abc", "abd")).toBe(false);
  expect(constantTimeEqual("abc", "abcd")).toBe(false);
});

/** The launch's idempotency key: what makes two launches "the same" for a retry, and what is never kept. */
import { describe, expect, test } from "bun:test";
import { launchKey } from "../../src/instances/launch-keys";
import { idempotencyKey, launchInput } from "../../src/instances/schemas";

const launch = launchInput.parse({ runtimeId: "reference", hfRepo: "Qwen/Qwen2.5-0.5B-Instruct", gpuPreferences: ["L4"] });

describe("launchKey", () => {
  test("the same launch digests the same, whatever the order of its fields or the token it carried", () => {
    const reordered = Object.fromEntries(Object.entries(launch).reverse()) as typeof launch;
    expect(launchKey("k", reordered).requestHash).toBe(launchKey("k", launch).requestHash);
    expect(launchKey("k", { ...launch, hfToken: "hf_secret" }).requestHash).toBe(launchKey("k", launch).requestHash);
  });

  test("another launch digests differently", () => {
    expect(launchKey("k", { ...launch, gpuCount: 2 }).requestHash).not.toBe(launchKey("k", launch).requestHash);
    expect(launchKey("k", { ...launch, servingName: "other" }).requestHash).not.toBe(launchKey("k", launch).requestHash);
  });

  test("what is kept is the key and a digest, never the token", () => {
    const kept = launchKey("retry-1", { ...launch, hfToken: "hf_secret" });
    expect(kept).toEqual({ key: "retry-1", requestHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(JSON.stringify(kept)).not.toContain("hf_secret");
  });
});

describe("the Idempotency-Key header", () => {
  test.each([["a"], ["550e8400-e29b-41d4-a716-446655440000"], ["x".repeat(255)]])("takes %p", (key) => {
    expect(idempotencyKey.safeParse(key).success).toBe(true);
  });
  test.each([[""], ["with space"], ["x".repeat(256)], ["naïve"], ["tab\there"]])("refuses %p", (key) => {
    expect(idempotencyKey.safeParse(key).success).toBe(false);
  });
});

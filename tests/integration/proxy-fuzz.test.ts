/**
 * Thousands of malformed and mistyped /v1 requests: none may answer 5xx,
 * every error is OpenAI-shaped, and the api keeps serving afterwards.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { referenceLaunch, startCompute, waitFor } from "../support/compute";
import { validateAgainst } from "../support/openapi";

const compute = await startCompute();
const { api } = await compute.fundedUser();
// Several keys, so the per-key limit (600/min) leaves most valid requests reaching the runtime.
const keys = await Promise.all([1, 2, 3, 4, 5, 6].map(async (n) => (await api.apiKeys.create({ name: `fuzz-${n}` })).secret));
const key = keys[0]!;
const launched = await api.instances.launch({ ...referenceLaunch, servingName: "fuzz-chat" });
await waitFor(
  () => api.instances.get({ id: launched.id }),
  (i) => i.state === "running",
  30_000,
  "running",
);

const endpoints = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings"];
const models = fc.oneof(fc.constant("fuzz-chat"), fc.string(), fc.integer(), fc.constant(null), fc.array(fc.string()), fc.object());
const field = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.anything()), fc.object());
const messages = fc.oneof(
  fc.array(fc.record({ role: fc.oneof(fc.constantFrom("user", "system", "assistant", "tool"), fc.string()), content: fc.oneof(fc.string(), fc.anything()) })),
  fc.anything(),
);
const bodies = fc.oneof(
  // Well-formed, with odd extras: the proxy forwards what it does not know.
  fc
    .record({
      messages: fc.array(fc.record({ role: fc.constant("user"), content: fc.string() }), { minLength: 1, maxLength: 3 }),
      max_tokens: fc.integer({ min: 1, max: 4 }),
      extra: fc.anything(),
    })
    .map((value) => JSON.stringify({ model: "fuzz-chat", ...value })),
  // Mistyped but JSON objects: these reach the runtime when `model` is right.
  fc
    .record(
      { model: models, messages, max_tokens: fc.oneof(fc.integer({ min: -5, max: 8 }), field), stream: fc.oneof(fc.boolean(), field) },
      { requiredKeys: ["model"] },
    )
    .map((value) => JSON.stringify(value)),
  fc.record({ model: models, prompt: field, input: field, n: field, stop: field, logprobs: field }).map((value) => JSON.stringify(value)),
  // Not JSON objects at all.
  fc.json(),
  fc.string(),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => new Uint8Array(bytes) as Uint8Array<ArrayBuffer>),
);
const authorizations = fc.oneof(
  fc.constantFrom(...keys).map((k) => `Bearer ${k}`),
  fc.constantFrom(...keys).map((k) => `Bearer ${k}`),
  fc.constantFrom(...keys).map((k) => `bearer   ${k}`),
  fc.string().filter((s) => /^[\x20-\x7e]*$/.test(s)),
  fc.constant(undefined),
);
const contentTypes = fc.oneof(
  fc.constant("application/json"),
  fc.constant("text/plain"),
  fc.constant(undefined),
  fc.string().filter((s) => /^[\x20-\x7e]*$/.test(s)),
);

describe("fuzzing /v1", () => {
  test("no 5xx, OpenAI-shaped errors, and the api stays up", async () => {
    let requests = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...endpoints), bodies, authorizations, contentTypes, async (path, body, authorization, contentType) => {
        const headers: Record<string, string> = {};
        if (authorization !== undefined) headers.authorization = authorization;
        if (contentType !== undefined) headers["content-type"] = contentType;
        const answer = await fetch(`${compute.url}${path}`, { method: "POST", headers, body });
        requests++;
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const text = await answer.text();
        if (answer.status >= 500) throw new Error(`${answer.status} for ${path} ${JSON.stringify(body).slice(0, 300)}: ${text.slice(0, 300)}`);
        if (answer.status >= 400) {
          const errors = validateAgainst("ErrorResponse", JSON.parse(text));
          if (errors.length > 0) throw new Error(`not an ErrorResponse: ${errors.join("; ")} ${text.slice(0, 300)}`);
        }
      }),
      // The per-key limit (600/min) would answer 429s after the first 600; still never a 5xx, and still shaped.
      { numRuns: 2500 },
    );
    expect(requests).toBeGreaterThanOrEqual(2500);
    // The runtime was reached (200s and its own 400s), not only the proxy's refusals.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(10);
    const health = await fetch(`${compute.url}/healthz`);
    expect(health.status).toBe(200);
  }, 240_000);

  test("mistyped headers and methods", async () => {
    const weird: Record<string, string>[] = [
      { authorization: `Bearer ${"qdz_".repeat(100)}` },
      { authorization: `Bearer ${key}`, "content-length": "abc" },
      { authorization: `Bearer ${key}`, accept: "\t" },
      { authorization: `Bearer ${key} extra` },
      { authorization: `Token ${key}` },
    ];
    for (const headers of weird) {
      const answer = await fetch(`${compute.url}/v1/chat/completions`, { method: "POST", headers, body: `{"model":"fuzz-chat","messages":[]}` }).catch(
        () => null,
      );
      if (answer) expect(answer.status).toBeLessThan(500);
    }
    for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
      const answer = await fetch(`${compute.url}/v1/chat/completions`, { method, headers: { authorization: `Bearer ${key}` } });
      expect(answer.status).toBeLessThan(500);
    }
    expect((await fetch(`${compute.url}/healthz`)).status).toBe(200);
  });
});

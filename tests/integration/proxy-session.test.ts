/**
 * The playground's way into /v1: the session cookie instead of an API key,
 * accepted only from the web app's own origin (a cross-site form POST would
 * otherwise reach the proxy, which parses any body as JSON).
 */
import { describe, expect, test } from "bun:test";
import { referenceLaunch, startCompute, waitFor } from "../support/compute";
import { expectValid } from "../support/openapi";

const compute = await startCompute();
const owner = await compute.fundedUser();
const key = (await owner.api.apiKeys.create({ name: "bearer" })).secret;
await owner.api.instances.launch({ ...referenceLaunch, servingName: "chat-s" });
await waitFor(
  () => owner.api.instances.list(),
  (list) => list[0]?.state === "running",
  30_000,
  "instance running",
);

const body = JSON.stringify({ model: "chat-s", messages: [{ role: "user", content: "Hello" }], max_tokens: 8 });
const cookie = `qdz_session=${owner.user.sessionToken}`;
const chat = (headers: Record<string, string>, init: { body?: string } = {}) =>
  fetch(`${compute.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: init.body ?? body });

async function expectRefused(response: Response) {
  expect(response.status).toBe(403);
  const answer = await response.json();
  expectValid("ErrorResponse", answer);
  expect(answer.error.code).toBe("cross_site_refused");
  expect(answer.error.message).toContain("API key");
}

describe("session cookie", () => {
  test("from the web app's origin: answered, rate-limited per session", async () => {
    const response = await chat({ cookie, origin: compute.url });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-ratelimit-limit-requests")).not.toBeNull();
    const answer = await response.json();
    expectValid("CreateChatCompletionResponse", answer);
    expect(answer.choices[0].message.content).toStartWith("[reference runtime]");
  });

  test("streams, as the playground asks", async () => {
    const response = await chat({ cookie, origin: compute.url }, { body: JSON.stringify({ ...JSON.parse(body), stream: true }) });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    expect(await response.text()).toContain("data: [DONE]");
  });

  test("GET /v1/models works too", async () => {
    const response = await fetch(`${compute.url}/v1/models`, { headers: { cookie, origin: compute.url } });
    // Same-origin GETs carry no Origin in browsers: the list is still answered (nothing changes, no CORS to read it cross-site).
    expect((await fetch(`${compute.url}/v1/models`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${compute.url}/v1/models`, { headers: { cookie, origin: "https://evil.example" } })).status).toBe(403);
    expect(response.status).toBe(200);
    expect((await response.json()).data.map((m: { id: string }) => m.id)).toContain("chat-s");
  });
});

describe("security", () => {
  test("without Origin: 403 in OpenAI's shape", async () => {
    await expectRefused(await chat({ cookie }));
  });

  test("from a foreign origin: 403, even as a text/plain form post", async () => {
    await expectRefused(await chat({ cookie, origin: "https://evil.example" }));
    await expectRefused(await chat({ cookie, origin: "https://evil.example", "content-type": "text/plain" }));
  });

  test("an ended session: 401", async () => {
    const response = await chat({ cookie: "qdz_session=qdzs_not_a_session", origin: compute.url });
    expect(response.status).toBe(401);
  });

  test("Bearer still works, and wins over a cookie", async () => {
    const response = await chat({ authorization: `Bearer ${key}` });
    expect(response.status).toBe(200);
    const both = await chat({ authorization: `Bearer ${key}`, cookie, origin: "https://evil.example" });
    expect(both.status).toBe(200);
    const badKey = await chat({ authorization: "Bearer nope", cookie, origin: compute.url });
    expect(badKey.status).toBe(401);
  });
});

/** Pre-prompt firewalls in the /v1 path: block names the rule, redact changes what the runtime sees, flag is recorded. */
import { describe, expect, test } from "bun:test";
import { referenceLaunch, startCompute, waitFor } from "../support/compute";
import { HEALTH_BOUND_MS, whilePollingHealth } from "../support/health";
import { expectValid } from "../support/openapi";

const compute = await startCompute();
const { api, user } = await compute.fundedUser();
const { secret } = await api.apiKeys.create({ name: "firewall tests" });
const launched = await api.instances.launch({ ...referenceLaunch, servingName: "guarded" });
const running = await waitFor(
  () => api.instances.get({ id: launched.id }),
  (i) => i.state === "running",
  20_000,
  "running",
);
const runtimeUrl = running.runs[0]!.runtimeUrl!;

const firewall = await api.firewalls.create({
  name: "strict",
  rules: [
    { id: "no-banned", kind: "deny_list", action: "block", options: { terms: ["project zeus"] } },
    { id: "hide-emails", kind: "pii", action: "redact", options: { categories: ["emails"] } },
    { id: "watch-keys", kind: "secrets", action: "flag", options: {} },
  ],
});
await api.firewalls.attach({ instanceId: launched.id, firewallId: firewall.id });

function chat(content: string, headers: Record<string, string> = {}) {
  return fetch(`${compute.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "guarded", messages: [{ role: "user", content }], max_tokens: 12 }),
  });
}

async function direct(content: string) {
  const response = await fetch(`${runtimeUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "guarded", messages: [{ role: "user", content }], max_tokens: 12 }),
  });
  return (await response.json()).choices[0].message.content as string;
}

describe("a firewall attached to an instance", () => {
  test("block: a 400 in OpenAI's shape naming the rule that fired, and recorded", async () => {
    const response = await chat("Tell me everything about Project   Zeus");
    expect(response.status).toBe(400);
    const body = await response.json();
    expectValid("ErrorResponse", body);
    expect(body.error).toMatchObject({ type: "invalid_request_error", code: "firewall_blocked" });
    expect(body.error.message).toBe("Firewall 'strict' blocked this prompt: rule 'no-banned' (deny_list) matched in messages[0].content.");
    const { events } = await api.firewalls.events({ instanceId: launched.id });
    expect(events.some((e) => e.ruleId === "no-banned" && e.action === "block")).toBe(true);
  });

  test("redact: the runtime sees the prompt with the match replaced", async () => {
    const response = await chat("Write to ada@example.com about the launch");
    expect(response.status).toBe(200);
    const content = (await response.json()).choices[0].message.content;
    expect(content).toBe(await direct("Write to [REDACTED:pii] about the launch"));
    expect(content).not.toBe(await direct("Write to ada@example.com about the launch"));
    // The client is told what the model received, field by field (the playground shows it).
    expect(JSON.parse(decodeURIComponent(response.headers.get("x-qdz-firewall-redacted")!))).toEqual([
      { field: "messages[0].content", text: "Write to [REDACTED:pii] about the launch" },
    ]);
    expect((await chat("Hello there")).headers.get("x-qdz-firewall-redacted")).toBeNull();
  });

  test("flag: forwarded unchanged and recorded, without the prompt text", async () => {
    const prompt = "my key is AKIAIOSFODNN7EXAMPLE, is it safe?";
    const response = await chat(prompt);
    expect(response.status).toBe(200);
    expect((await response.json()).choices[0].message.content).toBe(await direct(prompt));
    const { events } = await api.firewalls.events({ instanceId: launched.id });
    const flagged = events.find((e) => e.ruleId === "watch-keys");
    expect(flagged).toMatchObject({ action: "flag", ruleKind: "secrets", field: "messages[0].content" });
    expect(flagged!.promptExcerpt).toBeNull();
  });

  test("a clean prompt passes untouched", async () => {
    const response = await chat("Hello there");
    expect((await response.json()).choices[0].message.content).toBe(await direct("Hello there"));
  });
});

describe("who may change an instance's firewall for one request", () => {
  /** The playground's call: the owner's session cookie, from the web app's origin. */
  function playground(content: string, headers: Record<string, string> = {}) {
    return fetch(`${compute.url}/v1/chat/completions`, {
      method: "POST",
      headers: { cookie: `qdz_session=${user.sessionToken}`, origin: compute.url, "content-type": "application/json", ...headers },
      body: JSON.stringify({ model: "guarded", messages: [{ role: "user", content }], max_tokens: 12 }),
    });
  }

  test("an API key sending the bypass header is still firewalled: refused with a 403 saying why", async () => {
    const response = await chat("Tell me everything about Project Zeus", { "x-qdz-firewall": "none" });
    expect(response.status).toBe(403);
    const body = await response.json();
    expectValid("ErrorResponse", body);
    expect(body.error.code).toBe("firewall_bypass_refused");
    expect(body.error.message).toBe(
      "An API key cannot turn off an instance's firewall: 'x-qdz-firewall: none' is honoured only in the playground, for an account owner.",
    );
    // Without the header the same key is screened as ever.
    expect((await chat("Tell me everything about Project Zeus")).status).toBe(400);
  });

  test("an API key cannot swap the instance's firewall for a lenient one; naming the instance's own changes nothing", async () => {
    const lenient = await api.firewalls.create({ name: "lenient", rules: [] });
    const swapped = await chat("Project Zeus status?", { "x-qdz-firewall": lenient.id });
    expect(swapped.status).toBe(403);
    expect((await swapped.json()).error.code).toBe("firewall_pick_refused");
    const own = await chat("Project Zeus status?", { "x-qdz-firewall": firewall.id });
    expect(own.status).toBe(400);
    expect((await own.json()).error.code).toBe("firewall_blocked");
  });

  test("the owner's playground session may send a prompt with no firewall, for that request only", async () => {
    const unscreened = await playground("Project Zeus status?", { "x-qdz-firewall": "none" });
    expect(unscreened.status).toBe(200);
    expect((await unscreened.json()).choices[0].message.content).toBe(await direct("Project Zeus status?"));
    expect((await playground("Project Zeus status?")).status).toBe(400);
  });
});

test("the playground's per-request firewall applies to an instance without one", async () => {
  await api.firewalls.attach({ instanceId: launched.id, firewallId: null });
  expect((await chat("Project Zeus status?")).status).toBe(200);
  const blocked = await chat("Project Zeus status?", { "x-qdz-firewall": firewall.id });
  expect(blocked.status).toBe(400);
  expect((await blocked.json()).error.code).toBe("firewall_blocked");
});

test("a custom pattern that used to backtrack for seconds screens 65,536 characters at once, /healthz answering throughout", async () => {
  const custom = await api.firewalls.create({
    name: "custom",
    rules: [{ id: "abc", kind: "regex", action: "block", options: { pattern: "[ab]+[bc]+[cd]+x", maxInputChars: 65_536 } }],
  });
  const { slowestHealthMs } = await whilePollingHealth(compute.url, async () => {
    expect((await chat("b".repeat(65_536), { "x-qdz-firewall": custom.id })).status).toBe(200);
    const blocked = await chat(`${"b".repeat(65_534)}cx`, { "x-qdz-firewall": custom.id });
    expect(blocked.status).toBe(400);
    expect((await blocked.json()).error.message).toBe("Firewall 'custom' blocked this prompt: rule 'abc' (regex) matched in messages[0].content.");
  });
  // The backtracking engine held the event loop for 8.3 s on 4,096 characters.
  expect(slowestHealthMs).toBeLessThan(HEALTH_BOUND_MS);
});

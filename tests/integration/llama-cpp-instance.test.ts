/**
 * A real llama.cpp instance through the platform: the GGUF repo validated
 * from its metadata, the file downloaded from the (fixture) hub by the pod's
 * agent, served by a real llama-server, healthy, and streaming chat. The first
 * run on a machine builds llama-server (a few minutes); later runs reuse it.
 */
import { expect, test } from "bun:test";
import { dirname } from "node:path";
import { startCompute, waitFor } from "../support/compute";
import { expectValid } from "../support/openapi";
import { ensureLlamaServer, ensureTinyGguf } from "../support/tiny-gguf";

await ensureLlamaServer();
const gguf = await ensureTinyGguf();
const compute = await startCompute({ hubFilesDir: dirname(gguf), realRuntimes: true });

test("launch a GGUF repo on llama.cpp: downloaded by the agent, served by llama-server, chat streams", async () => {
  const { api } = await compute.fundedUser();
  const assessment = await api.instances.validate({
    runtimeId: "llama.cpp",
    hfRepo: "qdivzero/tiny-random-qwen2-gguf",
    gpuPreferences: ["L4"],
    gpuCount: 1,
    contextLength: 512,
  });
  expect(assessment).toMatchObject({ ok: true, format: "gguf", architecture: "llama", file: "tiny-random-qwen2.gguf" });

  const launched = await api.instances.launch({
    runtimeId: "llama.cpp",
    hfRepo: "qdivzero/tiny-random-qwen2-gguf",
    servingName: "tiny",
    contextLength: 512,
    gpuPreferences: ["L4"],
    gpuCount: 1,
    tier: "secure",
    allowedRegions: [],
    placementMode: "smart",
  });
  const running = await waitFor(
    () => api.instances.get({ id: launched.id }),
    (i) => i.state === "running" || i.state === "failed",
    60_000,
    "running",
  ).catch(async (error) => {
    // The pod's own account of what it was doing, for whoever reads the failure.
    console.error((await api.instances.logs({ id: launched.id, stream: "agent" })).text);
    console.error((await api.instances.logs({ id: launched.id, stream: "runtime" })).text);
    throw error;
  });
  expect(running.state).toBe("running");
  const runtimeUrl = running.runs[0]!.runtimeUrl!;
  const log = await api.instances.logs({ id: launched.id, stream: "agent" });
  expect(log.text).toContain("downloaded tiny-random-qwen2.gguf");
  expect(log.text).toContain("llama-server");

  const models = await (await fetch(`${runtimeUrl}/v1/models`)).json();
  expect(models.data.map((m: { id: string }) => m.id)).toContain("tiny");

  const response = await fetch(`${runtimeUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "tiny", stream: true, temperature: 0, seed: 1, max_tokens: 8, messages: [{ role: "user", content: "Hello" }] }),
  });
  const text = await response.text();
  const frames = text
    .split("\n\n")
    .filter((f) => f.startsWith("data: "))
    .map((f) => f.slice(6));
  expect(frames.at(-1)).toBe("[DONE]");
  const chunks = frames.slice(0, -1).map((f) => JSON.parse(f));
  for (const chunk of chunks) expectValid("CreateChatCompletionStreamResponse", chunk);
  expect(chunks.some((c) => typeof c.choices[0]?.delta?.content === "string")).toBe(true);

  await api.instances.stop({ id: launched.id });
  await waitFor(
    () => api.instances.get({ id: launched.id }),
    (i) => i.state === "stopped",
    30_000,
    "stopped",
  );
}, 120_000);

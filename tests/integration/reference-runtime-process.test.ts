/** The reference runtime as the local provider starts it: a process with flags, stopped by a signal. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { projectRoot } from "../../src/config";
import { freePort } from "../support/cluster";
import { expectValid } from "../support/openapi";

const MAIN = join(projectRoot, "pods/reference-runtime/main.ts");

async function start(flags: string[]) {
  const port = await freePort();
  const child = Bun.spawn([process.execPath, MAIN, "--port", String(port), "--host", "127.0.0.1", ...flags], { stdout: "pipe", stderr: "pipe" });
  const base = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + 5_000;
  for (;;) {
    try {
      await fetch(`${base}/health`);
      break;
    } catch {
      if (performance.now() > deadline || child.exitCode !== null) throw new Error(`runtime did not start: ${await new Response(child.stderr).text()}`);
      await Bun.sleep(25);
    }
  }
  return { child, base };
}

async function stopWithin(child: Bun.Subprocess, signal: NodeJS.Signals, ms: number): Promise<number> {
  const started = performance.now();
  child.kill(signal);
  const code = await Promise.race([child.exited, Bun.sleep(ms * 3).then(() => "timeout" as const)]);
  if (code === "timeout") {
    child.kill("SIGKILL");
    throw new Error(`did not stop after ${signal}`);
  }
  expect(performance.now() - started).toBeLessThan(ms);
  return code;
}

describe("main.ts", () => {
  test("boots through its phases, serves, logs each request, and stops on SIGTERM within a second", async () => {
    const { child, base } = await start(["--served-model-name", "tiny", "--model", "org/tiny", "--boot-ms", "600", "--tokens-per-second", "20"]);
    const booting = await fetch(`${base}/health`);
    expect(booting.status).toBe(503);
    expect((await booting.json()).status).toBe("booting");
    let health: Response;
    do {
      await Bun.sleep(50);
      health = await fetch(`${base}/health`);
    } while (health.status === 503);
    expect(await health.json()).toEqual({ status: "ok" });
    const models = await (await fetch(`${base}/v1/models`)).json();
    expectValid("ListModelsResponse", models);
    expect(models.data[0].id).toBe("tiny");

    // An open, slow stream must not hold the stop up.
    const stream = await fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "hi" }], stream: true, max_tokens: 500, ignore_eos: true }),
    });
    await stream.body!.getReader().read();
    expect(await stopWithin(child, "SIGTERM", 1_000)).toBe(0);
    const stdout = await new Response(child.stdout).text();
    expect(stdout).toContain("not a real model");
    expect(stdout).toMatch(/GET \/health 503 /);
    expect(stdout).toMatch(/GET \/v1\/models 200 /);
    expect(stdout).toMatch(/POST \/v1\/chat\/completions 200 /);
  });

  test("an embeddings runtime with an API key; SIGINT stops it too", async () => {
    const { child, base } = await start([
      "--model",
      "org/embed",
      "--task",
      "embeddings",
      "--embedding-dimensions",
      "16",
      "--boot-ms",
      "0",
      "--api-key",
      "k-123",
    ]);
    try {
      expect((await fetch(`${base}/v1/models`)).status).toBe(401);
      const response = await fetch(`${base}/v1/embeddings`, {
        method: "POST",
        headers: { authorization: "Bearer k-123" },
        body: JSON.stringify({ model: "org/embed", input: "x" }),
      });
      const body = await response.json();
      expectValid("CreateEmbeddingResponse", body);
      expect(body.data[0].embedding).toHaveLength(16);
    } finally {
      expect(await stopWithin(child, "SIGINT", 1_000)).toBe(0);
    }
  });

  test("bad flags exit with status 2 and say which flag", async () => {
    const child = Bun.spawn([process.execPath, MAIN, "--model", "m", "--task", "vision"], { stdout: "pipe", stderr: "pipe" });
    expect(await child.exited).toBe(2);
    expect(await new Response(child.stderr).text()).toContain("--task");
  });
});

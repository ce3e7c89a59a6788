import { describe, expect, test } from "bun:test";
import { bootStatus } from "../../pods/reference-runtime/boot";
import { OptionsError, parseFlags, resolveOptions } from "../../pods/reference-runtime/options";

describe("bootStatus", () => {
  test("walks through pulling_image, downloading_model and loading_model, then ok", () => {
    const phases = [0, 100, 199, 200, 500, 799, 800, 999].map((t) => bootStatus(t, 1000, "org/model"));
    expect(phases.map((status) => (status.status === "booting" ? status.phase : "ok"))).toEqual([
      "pulling_image",
      "pulling_image",
      "pulling_image",
      "downloading_model",
      "downloading_model",
      "downloading_model",
      "loading_model",
      "loading_model",
    ]);
    expect(bootStatus(1000, 1000, "org/model")).toEqual({ status: "ok" });
    expect(bootStatus(0, 0, "org/model")).toEqual({ status: "ok" });
  });

  test("progress is the download's share, and never goes back", () => {
    const at = (t: number) => {
      const status = bootStatus(t, 1000, "org/model");
      if (status.status !== "booting") throw new Error("expected booting");
      return status;
    };
    expect(at(100).progress).toBe(0);
    expect(at(500).progress).toBeCloseTo(0.5, 2);
    expect(at(500).message).toContain("org/model: 50%");
    expect(at(900).progress).toBe(1);
    let last = 0;
    for (let t = 0; t < 1000; t += 7) {
      const { progress } = at(t);
      expect(progress).toBeGreaterThanOrEqual(last);
      expect(progress).toBeLessThanOrEqual(1);
      last = progress;
    }
  });
});

describe("parseFlags", () => {
  test("reads vLLM-style flags", () => {
    const { options, ignored } = parseFlags([
      "--port",
      "9000",
      "--host",
      "0.0.0.0",
      "--served-model-name",
      "chat-small",
      "--model",
      "Qwen/Qwen2.5-0.5B-Instruct",
      "--task",
      "embeddings",
      "--embedding-dimensions",
      "768",
      "--max-model-len",
      "2048",
      "--boot-ms",
      "0",
      "--tokens-per-second",
      "12.5",
      "--api-key",
      "secret",
    ]);
    expect(options).toEqual({
      port: 9000,
      host: "0.0.0.0",
      servedModelName: "chat-small",
      model: "Qwen/Qwen2.5-0.5B-Instruct",
      task: "embeddings",
      embeddingDimensions: 768,
      maxModelLen: 2048,
      bootMs: 0,
      tokensPerSecond: 12.5,
      apiKey: "secret",
    });
    expect(ignored).toEqual([]);
  });

  test("defaults, a positional model after 'serve', vLLM's task names, and VLLM_API_KEY", () => {
    const { options } = parseFlags(["serve", "org/model", "--task", "embed"], { VLLM_API_KEY: "from-env" });
    expect(options).toMatchObject({
      model: "org/model",
      servedModelName: "org/model",
      task: "embeddings",
      port: 8000,
      host: "127.0.0.1",
      bootMs: 1500,
      tokensPerSecond: 200,
      maxModelLen: 4096,
      embeddingDimensions: 384,
      apiKey: "from-env",
    });
  });

  test("flags it does not use are reported, not refused", () => {
    const { options, ignored } = parseFlags(["--model", "m", "--gpu-memory-utilization", "0.9", "--enforce-eager"]);
    expect(options.model).toBe("m");
    expect(ignored).toEqual(["--gpu-memory-utilization", "--enforce-eager"]);
  });

  test("bad values fail with the flag's name", () => {
    expect(() => parseFlags(["--model", "m", "--port", "http"])).toThrow(OptionsError);
    expect(() => parseFlags(["--model", "m", "--port", "http"])).toThrow("--port");
    expect(() => parseFlags(["--model", "m", "--task", "vision"])).toThrow("--task");
    expect(() => parseFlags([])).toThrow("--model");
    expect(() => resolveOptions({ model: "m", tokensPerSecond: -1 })).toThrow("--tokens-per-second");
  });
});

import { describe, expect, test } from "bun:test";
import { baseModelOf, detectFormats, detectModalities, detectTasks } from "../../src/hub/capabilities";
import { attentionConfig, estimateParameterCount, maxContextLength } from "../../src/hub/model-shape";
import { type ModelConfig, type ModelInfoInput, modelInfoSchema } from "../../src/hub/schemas";
import { bundledSnapshots } from "../../src/hub/snapshots";
import { chooseGgufFile, ggufFiles, sizeWeights } from "../../src/hub/weights";

const info = (repo: string) => bundledSnapshots.modelInfo(repo)!;
const config = (repo: string) => (bundledSnapshots.json(repo, "config.json") as ModelConfig | undefined) ?? null;
const infoOf = (input: Partial<ModelInfoInput>) => modelInfoSchema.parse({ id: "org/model", ...input });

describe("the shipped snapshots", () => {
  test("cover the models the platform validates offline", () => {
    expect(bundledSnapshots.repos()).toEqual([
      "BAAI/bge-small-en-v1.5",
      "Qwen/Qwen2.5-0.5B-Instruct",
      "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
      "Qwen/Qwen3-8B",
      "Qwen/Qwen3-VL-Embedding-2B",
      "meta-llama/Llama-3.1-8B-Instruct",
      "meta-llama/Llama-3.3-70B-Instruct",
      "openai/whisper-large-v3",
      "qdivzero/tiny-random-qwen2-gguf",
    ]);
  });

  test("are found case-insensitively, like the hub's ids, and refuse paths", () => {
    expect(bundledSnapshots.modelInfo("qwen/qwen3-8b")?.id).toBe("Qwen/Qwen3-8B");
    expect(bundledSnapshots.has("../snapshots/Qwen")).toBe(false);
    expect(bundledSnapshots.text("Qwen/Qwen3-8B", "../Qwen2.5-0.5B-Instruct/config.json")).toBeUndefined();
  });

  test("safetensors totals match their per-dtype counts, and sharded files add up to about 2 bytes a weight", () => {
    for (const repo of bundledSnapshots.repos()) {
      const st = info(repo).safetensors;
      if (!st) continue;
      expect(Object.values(st.parameters).reduce((a, b) => a + b, 0)).toBe(st.total);
    }
    const shards = info("meta-llama/Llama-3.3-70B-Instruct").siblings.filter((s) => s.rfilename.endsWith(".safetensors"));
    expect(shards).toHaveLength(30);
    const bytes = shards.reduce((sum, s) => sum + s.size!, 0);
    expect(bytes / (70_553_706_496 * 2)).toBeCloseTo(1, 3);
  });
});

describe("parameter count from config.json", () => {
  test("is exact for Llama 3.1 8B and within 1 % for the other text models", () => {
    expect(estimateParameterCount(config("meta-llama/Llama-3.1-8B-Instruct")!)).toBe(8_030_261_248);
    for (const repo of ["Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen3-8B", "meta-llama/Llama-3.3-70B-Instruct", "BAAI/bge-small-en-v1.5"]) {
      const estimate = estimateParameterCount(config(repo)!)!;
      expect(Math.abs(estimate / info(repo).safetensors!.total - 1)).toBeLessThan(0.01);
    }
  });

  test("counts only the language model of a multimodal config (the vision tower is extra)", () => {
    const estimate = estimateParameterCount(config("Qwen/Qwen3-VL-Embedding-2B")!)!;
    expect(estimate).toBeGreaterThan(1.6e9);
    expect(estimate).toBeLessThan(info("Qwen/Qwen3-VL-Embedding-2B").safetensors!.total);
  });

  test("mixture-of-experts multiplies the MLP by the experts", () => {
    const dense = { vocab_size: 1000, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128, hidden_act: "silu" };
    const moe = { ...dense, num_local_experts: 8, moe_intermediate_size: 128 };
    const mlp = 3 * 64 * 128;
    expect(estimateParameterCount(moe)! - estimateParameterCount(dense)!).toBe(2 * (7 * mlp + 64 * 8));
  });

  test("is unknown without the basic dimensions", () => {
    expect(estimateParameterCount({ model_type: "mystery" })).toBeUndefined();
  });
});

describe("attention shape and context", () => {
  test("decoders: layers, KV heads and head dim, also from a nested text_config", () => {
    expect(attentionConfig(config("Qwen/Qwen2.5-0.5B-Instruct")!)).toMatchObject({ num_hidden_layers: 24, num_key_value_heads: 2, head_dim: 64 });
    expect(attentionConfig(config("Qwen/Qwen3-VL-Embedding-2B")!)).toMatchObject({ num_hidden_layers: 28, num_key_value_heads: 8, head_dim: 128 });
    expect(attentionConfig(config("openai/whisper-large-v3")!)).toMatchObject({ num_hidden_layers: 32, num_key_value_heads: 20, head_dim: 64 });
  });

  test("encoder-only embedding models keep no KV cache", () => {
    expect(attentionConfig(config("BAAI/bge-small-en-v1.5")!)).toBeNull();
  });

  test("maximum context from the config", () => {
    expect(maxContextLength(config("Qwen/Qwen3-8B")!)).toBe(40960);
    expect(maxContextLength(config("meta-llama/Llama-3.3-70B-Instruct")!)).toBe(131072);
    expect(maxContextLength(config("Qwen/Qwen3-VL-Embedding-2B")!)).toBe(262144);
    expect(maxContextLength(config("BAAI/bge-small-en-v1.5")!)).toBe(512);
    expect(maxContextLength(config("openai/whisper-large-v3")!)).toBe(448);
  });
});

describe("task, modality and format detection", () => {
  test("each shipped model", () => {
    const facts = (repo: string) => ({
      tasks: detectTasks(info(repo), config(repo)),
      modalities: detectModalities(info(repo), config(repo)),
      formats: detectFormats(info(repo)),
    });
    expect(facts("Qwen/Qwen2.5-0.5B-Instruct")).toEqual({ tasks: ["chat", "completion"], modalities: ["text"], formats: ["safetensors"] });
    expect(facts("meta-llama/Llama-3.3-70B-Instruct")).toEqual({ tasks: ["chat", "completion"], modalities: ["text"], formats: ["safetensors", "pytorch"] });
    expect(facts("BAAI/bge-small-en-v1.5")).toEqual({ tasks: ["embeddings"], modalities: ["text"], formats: ["safetensors", "pytorch"] });
    expect(facts("Qwen/Qwen3-VL-Embedding-2B")).toEqual({ tasks: ["embeddings"], modalities: ["text", "image"], formats: ["safetensors"] });
    expect(facts("openai/whisper-large-v3")).toEqual({ tasks: [], modalities: ["text"], formats: ["safetensors", "pytorch"] });
    expect(facts("Qwen/Qwen2.5-0.5B-Instruct-GGUF")).toEqual({ tasks: ["chat", "completion"], modalities: ["text"], formats: ["gguf"] });
  });

  test("a base model without a chat template serves completion only", () => {
    expect(detectTasks(infoOf({ pipeline_tag: "text-generation", tags: ["transformers", "text-generation"] }), null)).toEqual(["completion"]);
  });

  test("without a pipeline tag the architecture and library decide", () => {
    expect(detectTasks(infoOf({ config: { architectures: ["MistralForCausalLM"] }, tags: ["conversational"] }), null)).toEqual(["chat", "completion"]);
    expect(detectTasks(infoOf({ tags: ["sentence-transformers"] }), null)).toEqual(["embeddings"]);
    expect(detectTasks(infoOf({ config: { architectures: ["XLMRobertaModel"] } }), null)).toEqual(["embeddings"]);
    expect(detectTasks(infoOf({ pipeline_tag: "text-to-image" }), null)).toEqual([]);
  });

  test("vision-language chat models take images", () => {
    const vlm = infoOf({ pipeline_tag: "image-text-to-text", tags: ["conversational"] });
    expect(detectTasks(vlm, null)).toEqual(["chat", "completion"]);
    expect(detectModalities(vlm, null)).toEqual(["text", "image"]);
    expect(detectModalities(infoOf({ pipeline_tag: "feature-extraction" }), { vision_config: {} })).toEqual(["text", "image"]);
  });

  test("the base model of a quantized repo", () => {
    expect(baseModelOf(info("Qwen/Qwen2.5-0.5B-Instruct-GGUF"))).toBe("Qwen/Qwen2.5-0.5B-Instruct");
    expect(baseModelOf(infoOf({ cardData: { base_model: ["a/b"] } }))).toBe("a/b");
    expect(baseModelOf(infoOf({}))).toBeUndefined();
  });
});

describe("GGUF files and weight sizes", () => {
  test("Q4_K_M is the default pick; a named file wins", () => {
    const gguf = info("Qwen/Qwen2.5-0.5B-Instruct-GGUF");
    expect(ggufFiles(gguf)).toHaveLength(9);
    expect(chooseGgufFile(gguf)).toEqual({ file: "qwen2.5-0.5b-instruct-q4_k_m.gguf", bytes: 491_400_064 });
    expect(chooseGgufFile(gguf, "qwen2.5-0.5b-instruct-q8_0.gguf")?.bytes).toBe(675_710_816);
    expect(chooseGgufFile(gguf, "nope.gguf")).toBeUndefined();
  });

  test("split files count as one, mmproj projectors are not models", () => {
    const split = infoOf({
      siblings: [
        { rfilename: "m-Q8_0-00002-of-00002.gguf", size: 5 },
        { rfilename: "m-Q8_0-00001-of-00002.gguf", size: 10 },
        { rfilename: "mmproj-m-f16.gguf", size: 1 },
        { rfilename: "m-Q2_K.gguf", size: 3 },
      ],
    });
    expect(ggufFiles(split)).toEqual([
      { file: "m-Q2_K.gguf", bytes: 3 },
      { file: "m-Q8_0-00001-of-00002.gguf", bytes: 15 },
    ]);
    expect(chooseGgufFile(split)?.file).toBe("m-Q8_0-00001-of-00002.gguf");
    expect(chooseGgufFile(split, "m-Q8_0.gguf")?.bytes).toBe(15);
  });

  test("safetensors metadata first; 32-bit checkpoints are served in 16 bits", () => {
    const bge = sizeWeights(info("BAAI/bge-small-en-v1.5"), config("BAAI/bge-small-en-v1.5"), "safetensors");
    expect(bge).toMatchObject({ parameterCount: 33_360_000, dtype: "F32", servingDtype: "F16", bytes: 66_720_000, from: "safetensors" });
    const mixed = sizeWeights(infoOf({ safetensors: { parameters: { BF16: 1000, F32: 10 }, total: 1010 } }), null, "safetensors");
    expect(mixed).toMatchObject({ dtype: "BF16", bytes: 2000 + 20 });
  });

  test("config.json when the hub has no safetensors metadata, GGUF file size for GGUF", () => {
    const fromConfig = sizeWeights(infoOf({}), config("meta-llama/Llama-3.1-8B-Instruct"), "pytorch");
    expect(fromConfig).toMatchObject({ parameterCount: 8_030_261_248, dtype: "BF16", bytes: 16_060_522_496, from: "config" });
    expect(fromConfig.warnings[0]).toContain("estimated from config.json");
    const gguf = info("Qwen/Qwen2.5-0.5B-Instruct-GGUF");
    expect(sizeWeights(gguf, null, "gguf", chooseGgufFile(gguf))).toMatchObject({ parameterCount: 630_167_424, dtype: "Q4_K_M", bytes: 491_400_064 });
  });

  test("GGUF without a listed size: its quantization's bits, else F32 to err safe", () => {
    const noSize = infoOf({ gguf: { total: 1000 }, siblings: [{ rfilename: "m-Q8_0.gguf" }, { rfilename: "x.gguf" }] });
    expect(sizeWeights(noSize, null, "gguf", { file: "m-Q8_0.gguf", bytes: undefined }).bytes).toBe(1062.5);
    expect(sizeWeights(noSize, null, "gguf", { file: "x.gguf", bytes: undefined }).bytes).toBe(4000);
    expect(sizeWeights(infoOf({}), null, "gguf", { file: "x.gguf", bytes: undefined }).bytes).toBeNull();
  });
});

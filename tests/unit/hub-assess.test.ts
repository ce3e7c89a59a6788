import { describe, expect, test } from "bun:test";
import { type AssessmentInput, assessModel } from "../../src/hub/assess";
import type { RuntimeSupport } from "../../src/hub/capabilities";
import type { ModelMetadata } from "../../src/hub/metadata";
import { type ModelConfig, modelInfoSchema } from "../../src/hub/schemas";
import { bundledSnapshots } from "../../src/hub/snapshots";
import { fitsOn } from "../../src/hub/vram";

const VLLM: RuntimeSupport = {
  name: "vLLM",
  architectures: ["Qwen2ForCausalLM", "Qwen3ForCausalLM", "LlamaForCausalLM", "BertModel", "Qwen3VLForConditionalGeneration"],
  tasks: ["chat", "completion", "embeddings"],
  modalities: ["text", "image"],
  formats: ["safetensors"],
};
const TEI: RuntimeSupport = {
  name: "TEI",
  architectures: ["BertModel", "XLMRobertaModel", "NomicBertModel"],
  tasks: ["embeddings"],
  modalities: ["text"],
  formats: ["safetensors"],
};
const TGI: RuntimeSupport = {
  name: "TGI",
  architectures: ["Qwen2ForCausalLM", "LlamaForCausalLM"],
  tasks: ["chat", "completion"],
  modalities: ["text"],
  formats: ["safetensors"],
};
const LLAMA_CPP: RuntimeSupport = {
  name: "llama.cpp",
  architectures: ["llama", "qwen2", "qwen3", "bert"],
  tasks: ["chat", "completion", "embeddings"],
  modalities: ["text"],
  formats: ["gguf"],
};
const GPU_TYPES = [
  { name: "L4", vramGiB: 24 },
  { name: "A100-40G", vramGiB: 40 },
  { name: "L40S", vramGiB: 48 },
  { name: "A100-80G", vramGiB: 80 },
  { name: "H100-80G", vramGiB: 80 },
];
const L4 = { name: "L4", vramGiB: 24, count: 1 };

function snapshot(repo: string): ModelMetadata {
  const config = (bundledSnapshots.json(repo, "config.json") as ModelConfig | undefined) ?? null;
  return { repo, info: bundledSnapshots.modelInfo(repo)!, config, source: "hub", warnings: [] };
}

function assess(repo: string, input: Partial<AssessmentInput> = {}, meta = snapshot(repo)) {
  return assessModel(meta, { repo, runtime: VLLM, gpus: L4, gpuTypes: GPU_TYPES, alternatives: [TEI, VLLM, LLAMA_CPP], ...input });
}

const codes = (a: { problems: { code: string }[] }) => a.problems.map((p) => p.code);

describe("a model that fits", () => {
  test("Qwen2.5-0.5B-Instruct at 4k on 1×L4", () => {
    const a = assess("Qwen/Qwen2.5-0.5B-Instruct", { contextLength: 4096 });
    expect(a).toMatchObject({
      ok: true,
      architecture: "Qwen2ForCausalLM",
      tasks: ["chat", "completion"],
      task: "chat",
      modalities: ["text"],
      parameterCount: 494_032_768,
      dtype: "BF16",
      format: "safetensors",
      contextLength: 4096,
      maxContextLength: 32768,
      availableGiB: 24,
      problems: [],
    });
    expect(a.usableGiB).toBeCloseTo(21.6, 10);
    expect(a.vram!.totalGiB).toBeCloseTo(1.967082, 5);
    expect(a.fitsOn[0]).toEqual({ name: "L4", vramGiB: 24, count: 1 });
  });

  test("the context defaults to the model's maximum, as vLLM's does", () => {
    const a = assess("Qwen/Qwen2.5-0.5B-Instruct");
    expect(a.contextLength).toBe(32768);
    expect(a.vram!.kvCacheGiB).toBe(0.375);
  });

  test("a context beyond the model's is capped, with a warning", () => {
    const a = assess("Qwen/Qwen2.5-0.5B-Instruct", { contextLength: 100_000 });
    expect(a.contextLength).toBe(32768);
    expect(a.warnings.join("\n")).toContain("using its maximum, 32,768");
  });

  test("heads that do not split over the GPUs are a warning (tensor parallelism)", () => {
    const a = assess("Qwen/Qwen2.5-0.5B-Instruct", { gpus: { ...L4, count: 4 } });
    expect(a.ok).toBe(true);
    expect(a.warnings.join("\n")).toContain("14 attention heads");
  });
});

describe("does_not_fit", () => {
  test("Qwen3-8B at its full context on 1×L4 names bigger GPUs and the context that would fit", () => {
    const a = assess("Qwen/Qwen3-8B");
    expect(codes(a)).toEqual(["does_not_fit"]);
    expect(a.problems[0]!.message).toMatch(/^Qwen3-8B needs ~23 GiB of VRAM .*40,960 tokens.*1×L4 gives 21\.6 GiB usable of 24 GiB\.$/);
    expect(a.problems[0]!.remediation).toBe("pick 1×A100-40G or 1×L40S, or lower the context length to 34,816 tokens");
    expect(assess("Qwen/Qwen3-8B", { contextLength: 34_816 }).ok).toBe(true);
    expect(assess("Qwen/Qwen3-8B", { contextLength: 8192 }).ok).toBe(true);
  });

  test("the 70B at 8k on 1×A100-80G: every suggested configuration fits", () => {
    const a = assess("meta-llama/Llama-3.3-70B-Instruct", { contextLength: 8192, gpus: { name: "A100-80G", vramGiB: 80, count: 1 } });
    expect(codes(a)).toEqual(["does_not_fit"]);
    expect(a.problems[0]!.message).toContain("needs ~148 GiB");
    expect(a.problems[0]!.remediation).toBe("pick 4×L40S or 4×A100-80G");
    for (const gpus of a.fitsOn) expect(fitsOn(a.vram!.totalGiB, gpus)).toBe(true);
  });

  test("without GPU types the remediation gives the VRAM to look for", () => {
    const a = assess("meta-llama/Llama-3.3-70B-Instruct", { contextLength: 8192, gpuTypes: undefined, gpus: L4 });
    expect(a.problems[0]!.remediation).toBe("choose GPUs with at least ~164 GiB of VRAM in total");
  });
});

describe("task and modality", () => {
  test("an embedding model on a chat-only runtime: pick the one that serves embeddings", () => {
    const a = assess("BAAI/bge-small-en-v1.5", { runtime: TGI });
    expect(a.tasks).toEqual(["embeddings"]);
    expect(a.task).toBe("embeddings");
    const problem = a.problems.find((p) => p.code === "task_mismatch")!;
    expect(problem.message).toBe("TGI does not serve embeddings; it serves text generation.");
    expect(problem.remediation).toBe("pick the TEI runtime for embeddings");
  });

  test("an embedding model launched for chat", () => {
    const a = assess("BAAI/bge-small-en-v1.5", { task: "chat" });
    expect(codes(a)).toEqual(["task_mismatch"]);
    expect(a.problems[0]).toEqual({
      code: "task_mismatch",
      message: "bge-small-en-v1.5 is an embedding model; it cannot serve chat.",
      remediation: "launch it for embeddings, or choose a chat model",
    });
  });

  test("a base model without a chat template launched for chat", () => {
    const meta = snapshot("Qwen/Qwen2.5-0.5B-Instruct");
    const base = { ...meta, info: modelInfoSchema.parse({ ...meta.info, tags: ["transformers", "text-generation"] }) };
    const a = assess("Qwen/Qwen2.5-0.5B-Instruct", { task: "chat" }, base);
    expect(a.problems[0]!.message).toContain("without a chat template");
    expect(assess("Qwen/Qwen2.5-0.5B-Instruct", { task: "completion" }, base).ok).toBe(true);
  });

  test("a multimodal embedding model on a text-only embeddings runtime", () => {
    const a = assess("Qwen/Qwen3-VL-Embedding-2B", { runtime: TEI, contextLength: 8192 });
    expect(a.modalities).toEqual(["text", "image"]);
    const problem = a.problems.find((p) => p.code === "modality_mismatch")!;
    expect(problem.message).toBe("Qwen3-VL-Embedding-2B takes image input as well as text; TEI accepts text only.");
    expect(problem.remediation).toBe("pick the vLLM runtime, which accepts image input");
    expect(assess("Qwen/Qwen3-VL-Embedding-2B", { contextLength: 8192 }).ok).toBe(true);
  });
});

describe("architecture and format", () => {
  test("speech recognition is not served", () => {
    const a = assess("openai/whisper-large-v3");
    expect(a.problems).toEqual([
      {
        code: "unsupported_architecture",
        message: "whisper-large-v3 is WhisperForConditionalGeneration (automatic speech recognition); vLLM serves text generation and embeddings.",
        remediation: "choose a model for text generation and embeddings; automatic speech recognition models are not served here",
      },
    ]);
  });

  test("an architecture the runtime lacks names a runtime that has it", () => {
    const a = assess("Qwen/Qwen3-8B", { runtime: TGI, contextLength: 8192 });
    expect(a.problems).toEqual([
      {
        code: "unsupported_architecture",
        message: "TGI does not support Qwen3ForCausalLM, the architecture of Qwen3-8B.",
        remediation: "pick the vLLM runtime, which supports Qwen3ForCausalLM",
      },
    ]);
  });

  test('a runtime listing "*" (the reference runtime) serves any architecture', () => {
    const reference: RuntimeSupport = {
      name: "reference",
      architectures: ["*"],
      tasks: ["chat", "completion", "embeddings"],
      modalities: ["text", "image"],
      formats: ["safetensors", "gguf"],
    };
    expect(assess("Qwen/Qwen3-8B", { runtime: reference, contextLength: 8192 }).ok).toBe(true);
    expect(assess("Qwen/Qwen2.5-0.5B-Instruct-GGUF", { runtime: reference }).ok).toBe(true);
    // …but a speech model still serves none of the platform's tasks.
    expect(assess("openai/whisper-large-v3", { runtime: reference }).problems).toEqual([
      {
        code: "task_mismatch",
        message: "whisper-large-v3 is an automatic speech recognition model; it cannot serve chat, completion or embeddings.",
        remediation: "choose a model for text generation or embeddings",
      },
    ]);
  });

  test("GGUF on a safetensors runtime is a format problem only, pointing at llama.cpp and the original repo", () => {
    const a = assess("Qwen/Qwen2.5-0.5B-Instruct-GGUF");
    expect(a.problems).toEqual([
      {
        code: "format_mismatch",
        message: "Qwen2.5-0.5B-Instruct-GGUF publishes GGUF weights; vLLM loads safetensors.",
        remediation: "pick the llama.cpp runtime, which loads GGUF, or launch Qwen/Qwen2.5-0.5B-Instruct, the original repo, on vLLM",
      },
    ]);
  });

  test("GGUF on llama.cpp: the Q4_K_M file, its size, its architecture and context", () => {
    const meta = {
      ...snapshot("Qwen/Qwen2.5-0.5B-Instruct-GGUF"),
      config: snapshot("Qwen/Qwen2.5-0.5B-Instruct").config,
      configFrom: "Qwen/Qwen2.5-0.5B-Instruct",
    };
    const a = assess("Qwen/Qwen2.5-0.5B-Instruct-GGUF", { runtime: LLAMA_CPP, contextLength: 4096 }, meta);
    expect(a).toMatchObject({
      ok: true,
      architecture: "qwen2",
      format: "gguf",
      file: "qwen2.5-0.5b-instruct-q4_k_m.gguf",
      dtype: "Q4_K_M",
      parameterCount: 630_167_424,
    });
    expect(a.vram!.weightsGiB).toBeCloseTo(491_400_064 / 1024 ** 3, 10);
    expect(a.vram!.kvCacheGiB).toBe(0.046875);
  });

  test("a GGUF file the repo does not have", () => {
    const a = assess("Qwen/Qwen2.5-0.5B-Instruct-GGUF", { runtime: LLAMA_CPP, file: "qwen2.5-0.5b-instruct-q9.gguf" });
    expect(a.problems[0]!.code).toBe("not_found");
    expect(a.problems[0]!.remediation).toContain("qwen2.5-0.5b-instruct-q4_k_m.gguf");
  });

  test("no weights metadata and no config: unknown size and unknown architecture", () => {
    const meta: ModelMetadata = {
      repo: "org/mystery",
      info: modelInfoSchema.parse({ id: "org/mystery", pipeline_tag: "text-generation", siblings: [{ rfilename: "model.safetensors" }] }),
      config: null,
      source: "hub",
      warnings: [],
    };
    const a = assess("org/mystery", {}, meta);
    expect(codes(a)).toEqual(["unsupported_architecture", "unknown_size"]);
    expect(a.vram).toBeNull();
    expect(a.problems.every((p) => p.message && p.remediation)).toBe(true);
  });
});

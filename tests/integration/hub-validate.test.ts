import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidInputError } from "../../src/errors";
import type { AssessmentInput } from "../../src/hub/assess";
import type { RuntimeSupport } from "../../src/hub/capabilities";
import { HubClient } from "../../src/hub/client";
import { validateModel } from "../../src/hub/validate";
import { fitsOn } from "../../src/hub/vram";
import { type FixtureHub, ggufBytes, startFixtureHub } from "../support/fixture-hub";

const TOKEN = "hf_fixture_token_with_access";
const VLLM: RuntimeSupport = {
  name: "vLLM",
  architectures: ["Qwen2ForCausalLM", "Qwen3ForCausalLM", "LlamaForCausalLM", "BertModel", "Qwen3VLForConditionalGeneration"],
  tasks: ["chat", "completion", "embeddings"],
  modalities: ["text", "image"],
  formats: ["safetensors"],
};
const TEI: RuntimeSupport = {
  name: "TEI",
  architectures: ["BertModel", "XLMRobertaModel"],
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
  architectures: ["llama", "qwen2", "qwen3"],
  tasks: ["chat", "completion", "embeddings"],
  modalities: ["text"],
  formats: ["gguf"],
};
const GPU_TYPES = [
  { name: "L4", vramGiB: 24 },
  { name: "RTX4090", vramGiB: 24 },
  { name: "A100-40G", vramGiB: 40 },
  { name: "L40S", vramGiB: 48 },
  { name: "A100-80G", vramGiB: 80 },
  { name: "H100-80G", vramGiB: 80 },
];
const gpu = (name: string, count = 1) => ({ ...GPU_TYPES.find((g) => g.name === name)!, count });

let hub: FixtureHub;
let filesDir: string;
const clients = {
  anonymous: () => new HubClient({ endpoint: hub.url }),
  withToken: () => new HubClient({ endpoint: hub.url, token: TOKEN }),
};

function validate(client: HubClient, repo: string, input: Partial<AssessmentInput> = {}) {
  return validateModel(client, { repo, runtime: VLLM, gpus: gpu("L4"), gpuTypes: GPU_TYPES, alternatives: [TEI, VLLM, LLAMA_CPP], ...input });
}

const codes = (a: { problems: { code: string }[] }) => a.problems.map((p) => p.code);

beforeAll(async () => {
  // The platform's tiny test model: a llama-architecture GGUF with a real-shaped header and stand-in weights.
  filesDir = mkdtempSync(join(tmpdir(), "qdz-hub-files-"));
  mkdirSync(join(filesDir, "qdivzero/tiny-random-qwen2-gguf"), { recursive: true });
  const tiny = ggufBytes(
    {
      "general.architecture": "llama",
      "general.name": "tiny-random-qwen2",
      "llama.context_length": 2048,
      "llama.embedding_length": 32,
      "llama.block_count": 2,
      "llama.feed_forward_length": 64,
      "llama.attention.head_count": 4,
      "llama.attention.head_count_kv": 4,
      "tokenizer.ggml.model": "gpt2",
      "tokenizer.ggml.tokens": Array.from({ length: 2000 }, (_, i) => `token-${i}`),
    },
    300_000,
  );
  writeFileSync(join(filesDir, "qdivzero/tiny-random-qwen2-gguf/tiny-random-qwen2.gguf"), tiny);
  hub = await startFixtureHub({ token: TOKEN, filesDir });
});

afterAll(async () => {
  await hub.stop();
  rmSync(filesDir, { recursive: true, force: true });
});

describe("every shipped model against the fixture hub", () => {
  test("Qwen2.5-0.5B-Instruct fits 1×L4", async () => {
    const a = await validate(clients.anonymous(), "Qwen/Qwen2.5-0.5B-Instruct", { contextLength: 4096 });
    expect(a).toMatchObject({ ok: true, source: "hub", architecture: "Qwen2ForCausalLM", parameterCount: 494_032_768, dtype: "BF16", contextLength: 4096 });
    expect(a.vram!.totalGiB).toBeCloseTo(1.967082, 5);
  });

  test("Qwen3-8B at 8k fits 1×L40S and 1×A100-40G; at its full 40,960 it does not fit 1×L4", async () => {
    const client = clients.anonymous();
    for (const card of ["L40S", "A100-40G"]) {
      expect((await validate(client, "Qwen/Qwen3-8B", { contextLength: 8192, gpus: gpu(card) })).ok).toBe(true);
    }
    const full = await validate(client, "Qwen/Qwen3-8B", { gpus: gpu("L4") });
    expect(full.contextLength).toBe(40960);
    expect(codes(full)).toEqual(["does_not_fit"]);
    expect(full.problems[0]!.remediation).toBe("pick 1×A100-40G or 1×L40S, or lower the context length to 34,816 tokens");
  });

  test("Llama-3.3-70B does not fit 1×A100-80G; the remediation names configurations that fit", async () => {
    const a = await validate(clients.withToken(), "meta-llama/Llama-3.3-70B-Instruct", { contextLength: 8192, gpus: gpu("A100-80G") });
    expect(codes(a)).toEqual(["does_not_fit"]);
    expect(a.problems[0]!.message).toContain("Llama-3.3-70B-Instruct needs ~148 GiB");
    const named = [...a.problems[0]!.remediation.matchAll(/(\d+)×([\w-]+)/g)].map(([, count, name]) => gpu(name!, Number(count)));
    expect(named.map((g) => `${g.count}×${g.name}`)).toEqual(["4×L40S", "4×A100-80G"]);
    for (const gpus of named) expect(fitsOn(a.vram!.totalGiB, gpus)).toBe(true);
    expect((await validate(clients.withToken(), "meta-llama/Llama-3.3-70B-Instruct", { contextLength: 8192, gpus: gpu("A100-80G", 4) })).ok).toBe(true);
  });

  test("gated repos: no token → gated with how to get access; the right token → ok; another token → no access", async () => {
    for (const repo of ["meta-llama/Llama-3.3-70B-Instruct", "meta-llama/Llama-3.1-8B-Instruct"]) {
      const a = await validate(clients.anonymous(), repo, { contextLength: 8192 });
      expect(a).toMatchObject({ ok: false, source: null, problems: [{ code: "gated" }] });
      expect(a.problems[0]!.message).toBe(`${repo} is gated: it needs a Hugging Face token with access.`);
      expect(a.problems[0]!.remediation).toContain("add a Hugging Face token with access in Account → Hugging Face");
    }
    const ok = await validate(clients.withToken(), "meta-llama/Llama-3.1-8B-Instruct", { contextLength: 8192 });
    expect(ok).toMatchObject({ ok: true, source: "hub", parameterCount: 8_030_261_248 });
    const other = await validate(new HubClient({ endpoint: hub.url, token: "hf_someone_else" }), "meta-llama/Llama-3.1-8B-Instruct");
    expect(other.problems[0]!.code).toBe("gated");
    expect(other.problems[0]!.message).toContain("has no access");
    expect(other.problems[0]!.remediation).toContain("with the account the token belongs to");
  });

  test("gated as on huggingface.co: the model info is public, config.json is not", async () => {
    const open = await startFixtureHub({ token: TOKEN, gatedModelInfo: "public" });
    try {
      const a = await validate(new HubClient({ endpoint: open.url }), "meta-llama/Llama-3.1-8B-Instruct");
      expect(codes(a)).toEqual(["gated"]);
      expect(open.requests).toEqual(["GET /api/models/meta-llama/Llama-3.1-8B-Instruct", "GET /meta-llama/Llama-3.1-8B-Instruct/resolve/main/config.json"]);
    } finally {
      await open.stop();
    }
  });

  test("bge-small-en-v1.5: ok on TEI, task_mismatch on a chat-only runtime", async () => {
    const onTei = await validate(clients.anonymous(), "BAAI/bge-small-en-v1.5", { runtime: TEI });
    expect(onTei).toMatchObject({ ok: true, task: "embeddings", architecture: "BertModel", parameterCount: 33_360_000, dtype: "F32", contextLength: 512 });
    expect(onTei.vram!.kvCacheGiB).toBe(0);
    const onTgi = await validate(clients.anonymous(), "BAAI/bge-small-en-v1.5", { runtime: TGI });
    const problem = onTgi.problems.find((p) => p.code === "task_mismatch")!;
    expect(problem.remediation).toBe("pick the TEI runtime for embeddings");
  });

  test("Qwen3-VL-Embedding-2B: modality_mismatch on a text-only embeddings runtime, ok on vLLM", async () => {
    const onTei = await validate(clients.anonymous(), "Qwen/Qwen3-VL-Embedding-2B", { runtime: TEI, contextLength: 8192 });
    expect(codes(onTei)).toContain("modality_mismatch");
    expect(onTei.problems.find((p) => p.code === "modality_mismatch")!.remediation).toBe("pick the vLLM runtime, which accepts image input");
    const onVllm = await validate(clients.anonymous(), "Qwen/Qwen3-VL-Embedding-2B", { contextLength: 8192 });
    expect(onVllm).toMatchObject({ ok: true, tasks: ["embeddings"], modalities: ["text", "image"], parameterCount: 2_127_532_032 });
  });

  test("whisper-large-v3 is an unsupported architecture", async () => {
    const a = await validate(clients.anonymous(), "openai/whisper-large-v3");
    expect(codes(a)).toEqual(["unsupported_architecture"]);
    expect(a.problems[0]!.message).toBe(
      "whisper-large-v3 is WhisperForConditionalGeneration (automatic speech recognition); vLLM serves text generation and embeddings.",
    );
  });

  test("Qwen2.5-0.5B-Instruct-GGUF on llama.cpp: the Q4_K_M file, KV cache from the base model's config", async () => {
    const a = await validate(clients.anonymous(), "Qwen/Qwen2.5-0.5B-Instruct-GGUF", { runtime: LLAMA_CPP, contextLength: 4096 });
    expect(a).toMatchObject({ ok: true, format: "gguf", architecture: "qwen2", file: "qwen2.5-0.5b-instruct-q4_k_m.gguf", dtype: "Q4_K_M" });
    expect(a.vram!.kvCacheGiB).toBe(0.046875);
    const onVllm = await validate(clients.anonymous(), "Qwen/Qwen2.5-0.5B-Instruct-GGUF");
    expect(codes(onVllm)).toEqual(["format_mismatch"]);
  });

  test("the platform's tiny GGUF: size from the served file, KV shape from its header read by range", async () => {
    const before = hub.requests.length;
    const a = await validate(clients.anonymous(), "qdivzero/tiny-random-qwen2-gguf", { runtime: LLAMA_CPP });
    expect(a).toMatchObject({ ok: true, format: "gguf", architecture: "llama", file: "tiny-random-qwen2.gguf", contextLength: 2048, warnings: [] });
    expect(a.vram!.weightsGiB * 1024 ** 3).toBeGreaterThan(300_000);
    expect(a.vram!.kvCacheGiB * 1024 ** 3).toBe(2 * 2 * 4 * 8 * 2 * 2048);
    expect(hub.requests.slice(before)).toContain("GET /_cdn/qdivzero/tiny-random-qwen2-gguf/tiny-random-qwen2.gguf");
  });

  test("an unknown repo is not_found", async () => {
    const a = await validate(clients.anonymous(), "nobody/no-such-model");
    expect(a).toMatchObject({ ok: false, source: null, problems: [{ code: "not_found" }] });
    expect(a.problems[0]!.remediation).toContain("check the repo id");
  });

  test("a malformed repo id is refused before any request", async () => {
    const before = hub.requests.length;
    await expect(validate(clients.anonymous(), "not a repo")).rejects.toBeInstanceOf(InvalidInputError);
    await expect(validate(clients.anonymous(), "../../api/models/x")).rejects.toBeInstanceOf(InvalidInputError);
    expect(hub.requests.length).toBe(before);
  });
});

describe("hub down", () => {
  let deadUrl: string;
  beforeAll(async () => {
    const gone = await startFixtureHub();
    deadUrl = gone.url;
    await gone.stop();
  });

  test("every shipped model still validates from its bundled snapshot, and says so", async () => {
    const offline = new HubClient({ endpoint: deadUrl, token: TOKEN });
    const expectations: [string, Partial<AssessmentInput>, boolean][] = [
      ["Qwen/Qwen2.5-0.5B-Instruct", {}, true],
      ["Qwen/Qwen3-8B", { contextLength: 8192 }, true],
      ["meta-llama/Llama-3.3-70B-Instruct", { contextLength: 8192, gpus: gpu("A100-80G", 4) }, true],
      ["meta-llama/Llama-3.1-8B-Instruct", { contextLength: 8192 }, true],
      ["BAAI/bge-small-en-v1.5", { runtime: TEI }, true],
      ["Qwen/Qwen3-VL-Embedding-2B", { contextLength: 8192 }, true],
      ["openai/whisper-large-v3", {}, false],
      ["Qwen/Qwen2.5-0.5B-Instruct-GGUF", { runtime: LLAMA_CPP }, true],
      ["qdivzero/tiny-random-qwen2-gguf", { runtime: LLAMA_CPP }, true],
    ];
    for (const [repo, input, ok] of expectations) {
      const a = await validate(offline, repo, input);
      expect({ repo, source: a.source, ok: a.ok }).toEqual({ repo, source: "snapshot", ok });
      expect(a.warnings[0]).toContain(`uses the bundled snapshot of ${repo}`);
    }
  });

  test("the snapshot's numbers are the hub's numbers", async () => {
    const online = await validate(clients.anonymous(), "Qwen/Qwen3-8B", { contextLength: 8192 });
    const offline = await validate(new HubClient({ endpoint: deadUrl }), "Qwen/Qwen3-8B", { contextLength: 8192 });
    expect(offline.vram).toEqual(online.vram!);
  });

  test("a gated snapshot without a token is still gated; with one, access is left to the download", async () => {
    const anonymous = await validate(new HubClient({ endpoint: deadUrl }), "meta-llama/Llama-3.1-8B-Instruct", { contextLength: 8192 });
    expect(codes(anonymous)).toEqual(["gated"]);
    const withToken = await validate(new HubClient({ endpoint: deadUrl, token: TOKEN }), "meta-llama/Llama-3.1-8B-Instruct", { contextLength: 8192 });
    expect(withToken.ok).toBe(true);
    expect(withToken.warnings.join("\n")).toContain("checked when the weights download");
  });

  test("a repo with neither hub nor snapshot is unreachable; so is any repo with the fallback off", async () => {
    const offline = new HubClient({ endpoint: deadUrl });
    const a = await validate(offline, "mistralai/Mistral-7B-Instruct-v0.3");
    expect(a).toMatchObject({ ok: false, source: null, problems: [{ code: "unreachable" }] });
    expect(a.problems[0]!.message).toContain("no bundled snapshot");
    expect(a.problems[0]!.remediation).toContain("HF_ENDPOINT");
    const noFallback = await validateModel(offline, { repo: "Qwen/Qwen2.5-0.5B-Instruct", runtime: VLLM, gpus: gpu("L4") }, { snapshots: null });
    expect(codes(noFallback)).toEqual(["unreachable"]);
  });

  test("a hub too slow to answer counts as down", async () => {
    const slow = await startFixtureHub({ latencyMs: 2_000 });
    try {
      const started = performance.now();
      const a = await validate(new HubClient({ endpoint: slow.url, timeoutMs: 200 }), "Qwen/Qwen2.5-0.5B-Instruct");
      expect(performance.now() - started).toBeLessThan(1_500);
      expect(a).toMatchObject({ ok: true, source: "snapshot" });
      expect(a.warnings[0]).toContain("no answer within 0.2 s");
    } finally {
      await slow.stop();
    }
  });
});

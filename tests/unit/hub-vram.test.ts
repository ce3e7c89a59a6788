import { describe, expect, test } from "bun:test";
import { bytesPerParameter, ggufQuantFromFileName, normalizeDtype } from "../../src/hub/dtypes";
import { estimateVram, fitsOn, formatGiB, formatGpuChoices, GiB, kvCacheBytesPerToken, suggestGpus } from "../../src/hub/vram";

const GPU_TYPES = [
  { name: "L4", vramGiB: 24 },
  { name: "RTX4090", vramGiB: 24 },
  { name: "A100-40G", vramGiB: 40 },
  { name: "L40S", vramGiB: 48 },
  { name: "A100-80G", vramGiB: 80 },
  { name: "H100-80G", vramGiB: 80 },
];

// Shapes from the shipped config.json files.
const QWEN25_05B = { num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, hidden_size: 896 };
const QWEN3_8B = { num_hidden_layers: 36, num_attention_heads: 32, num_key_value_heads: 8, head_dim: 128, hidden_size: 4096 };
const LLAMA33_70B = { num_hidden_layers: 80, num_attention_heads: 64, num_key_value_heads: 8, head_dim: 128, hidden_size: 8192 };

describe("dtypes", () => {
  test("bytes per weight for safetensors, torch and GGUF names", () => {
    expect(bytesPerParameter("F32")).toBe(4);
    expect(bytesPerParameter("float32")).toBe(4);
    expect(bytesPerParameter("BF16")).toBe(2);
    expect(bytesPerParameter("bfloat16")).toBe(2);
    expect(bytesPerParameter("F16")).toBe(2);
    expect(bytesPerParameter("fp16")).toBe(2);
    expect(bytesPerParameter("F8_E4M3")).toBe(1);
    expect(bytesPerParameter("I8")).toBe(1);
    expect(bytesPerParameter("INT8")).toBe(1);
    expect(bytesPerParameter("INT4")).toBe(0.5);
    expect(bytesPerParameter("Q4")).toBe(0.5);
    expect(bytesPerParameter("Q4_K_M")).toBeCloseTo(4.85 / 8, 10);
    expect(bytesPerParameter("q8_0")).toBeCloseTo(8.5 / 8, 10);
    expect(bytesPerParameter("Q6_K")).toBeCloseTo(6.5625 / 8, 10);
    expect(bytesPerParameter("I64")).toBe(8);
    expect(bytesPerParameter("mystery")).toBeUndefined();
  });

  test("names normalize to the hub's spelling", () => {
    expect(normalizeDtype("torch.bfloat16")).toBe("BF16");
    expect(normalizeDtype(" half ")).toBe("F16");
    expect(normalizeDtype("float8_e4m3fn")).toBe("F8_E4M3");
    expect(normalizeDtype("q4_k_m")).toBe("Q4_K_M");
  });

  test("GGUF quantization from file names", () => {
    expect(ggufQuantFromFileName("qwen2.5-0.5b-instruct-q4_k_m.gguf")).toBe("Q4_K_M");
    expect(ggufQuantFromFileName("qwen2.5-0.5b-instruct-fp16.gguf")).toBe("F16");
    expect(ggufQuantFromFileName("Meta-Llama-3.1-8B-Instruct-Q8_0.gguf")).toBe("Q8_0");
    expect(ggufQuantFromFileName("sub/Llama-3.3-70B-Instruct-Q4_K_M-00001-of-00002.gguf")).toBe("Q4_K_M");
    expect(ggufQuantFromFileName("model-IQ4_XS.gguf")).toBe("IQ4_XS");
    expect(ggufQuantFromFileName("tiny-random-qwen2.gguf")).toBeUndefined();
  });
});

describe("estimateVram", () => {
  test("Qwen2.5-0.5B-Instruct at 4k context (hand-checked)", () => {
    // 494,032,768 × 2 B = 0.9202 GiB; KV 2 × 24 layers × 2 heads × 64 dims × 2 B = 12,288 B/token × 4096 = 0.046875 GiB.
    const v = estimateVram({ parameterCount: 494_032_768, dtype: "BF16", architecture: QWEN25_05B, contextLength: 4096 });
    expect(v.weightsGiB).toBeCloseTo(0.920207, 5);
    expect(v.kvCacheGiB).toBe(0.046875);
    expect(v.overheadGiB).toBe(1); // 10 % of 0.92 GiB is under the 1 GiB floor
    expect(v.totalGiB).toBeCloseTo(1.967082, 5);
  });

  test("Qwen3-8B at 8k and at its full 40,960 context", () => {
    // 8,190,735,360 × 2 B = 16,381,470,720 B = 15.256433 GiB; KV 2 × 36 × 8 × 128 × 2 B = 147,456 B/token.
    const at8k = estimateVram({ parameterCount: 8_190_735_360, dtype: "BF16", architecture: QWEN3_8B, contextLength: 8192 });
    expect(at8k.weightsGiB).toBeCloseTo(15.256433, 5);
    expect(at8k.kvCacheGiB).toBe(1.125);
    expect(at8k.overheadGiB).toBeCloseTo(1.525643, 5);
    expect(at8k.totalGiB).toBeCloseTo(17.907077, 5);
    const full = estimateVram({ parameterCount: 8_190_735_360, dtype: "BF16", architecture: QWEN3_8B, contextLength: 40960 });
    expect(full.kvCacheGiB).toBe(5.625);
    expect(full.totalGiB).toBeCloseTo(22.407077, 5);
  });

  test("Llama-3.3-70B at 8k", () => {
    // 70,553,706,496 × 2 B = 141,107,412,992 B = 131.416519 GiB; KV 2 × 80 × 8 × 128 × 2 B = 327,680 B/token × 8192 = 2.5 GiB; overhead 10 %.
    const v = estimateVram({ parameterCount: 70_553_706_496, dtype: "BF16", architecture: LLAMA33_70B, contextLength: 8192 });
    expect(v.weightsGiB).toBeCloseTo(131.416519, 5);
    expect(v.kvCacheGiB).toBe(2.5);
    expect(v.overheadGiB).toBeCloseTo(13.141652, 5);
    expect(v.totalGiB).toBeCloseTo(147.058171, 5);
  });

  test("an encoder-only embedding model keeps no KV cache", () => {
    // bge-small-en-v1.5: 33,360,000 weights; F32 on disk, F16 served.
    const f16 = estimateVram({ parameterCount: 33_360_000, dtype: "F16", architecture: null, contextLength: 512 });
    expect(f16.weightsGiB).toBeCloseTo(66_720_000 / GiB, 10);
    expect(f16.kvCacheGiB).toBe(0);
    expect(f16.totalGiB).toBeCloseTo(1.062138, 5);
    const f32 = estimateVram({ parameterCount: 33_360_000, dtype: "F32", architecture: null, contextLength: 512 });
    expect(f32.weightsGiB).toBeCloseTo(0.124276, 5);
  });

  test("GGUF quantizations size by their bits per weight", () => {
    const llama8b = { parameterCount: 8_030_261_248, architecture: null, contextLength: 0 };
    expect(estimateVram({ ...llama8b, dtype: "Q4_K_M" }).weightsGiB).toBeCloseTo((8_030_261_248 * 4.85) / 8 / GiB, 8); // 4.53 GiB
    expect(estimateVram({ ...llama8b, dtype: "Q4_K_M" }).weightsGiB).toBeCloseTo(4.534, 3);
    expect(estimateVram({ ...llama8b, dtype: "Q8_0" }).weightsGiB).toBeCloseTo(7.946, 3);
    expect(estimateVram({ ...llama8b, dtype: "F16" }).weightsGiB).toBeCloseTo(14.958, 3);
  });

  test("head_dim defaults to hidden_size / heads; batch and KV dtype scale the cache", () => {
    const llama8b = { num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, hidden_size: 4096 };
    expect(kvCacheBytesPerToken(llama8b)).toBe(2 * 32 * 8 * 128 * 2);
    const base = { parameterCount: 1, dtype: "BF16", architecture: llama8b, contextLength: 8192 };
    expect(estimateVram(base).kvCacheGiB).toBe(1);
    expect(estimateVram({ ...base, batch: 4 }).kvCacheGiB).toBe(4);
    expect(estimateVram({ ...base, kvCacheDtypeBytes: 1 }).kvCacheGiB).toBe(0.5);
    // Without num_key_value_heads every attention head has its own K and V.
    expect(kvCacheBytesPerToken({ num_hidden_layers: 2, num_attention_heads: 4, hidden_size: 32 })).toBe(2 * 2 * 4 * 8 * 2);
  });

  test("exact weight bytes win over count × dtype; an unknown dtype without them is refused", () => {
    const v = estimateVram({ parameterCount: 630_167_424, dtype: "Q4_K_M", weightBytes: 491_400_064, architecture: null, contextLength: 0 });
    expect(v.weightsGiB).toBeCloseTo(491_400_064 / GiB, 10);
    expect(() => estimateVram({ parameterCount: 1, dtype: "mystery", architecture: null, contextLength: 0 })).toThrow(/Unknown dtype/);
  });
});

describe("fitsOn", () => {
  test("compares with 90 % of the GPUs' VRAM", () => {
    expect(fitsOn(21.6, { name: "L4", vramGiB: 24, count: 1 })).toBe(true);
    expect(fitsOn(21.61, { name: "L4", vramGiB: 24, count: 1 })).toBe(false);
    expect(fitsOn(40, { name: "L4", vramGiB: 24, count: 2 })).toBe(true);
    expect(fitsOn(23, { name: "L4", vramGiB: 24, count: 1 }, 1)).toBe(true);
  });

  test("Qwen3-8B: 1×L4 holds 8k context but not the full 40,960; 1×L40S and 1×A100-40G hold both", () => {
    const L4 = { name: "L4", vramGiB: 24, count: 1 };
    expect(fitsOn(17.907077, L4)).toBe(true);
    expect(fitsOn(22.407077, L4)).toBe(false);
    expect(fitsOn(22.407077, { name: "L40S", vramGiB: 48, count: 1 })).toBe(true);
    expect(fitsOn(22.407077, { name: "A100-40G", vramGiB: 40, count: 1 })).toBe(true);
  });
});

describe("suggestGpus", () => {
  test("fewest GPUs first, then the smallest VRAM, one per (count, VRAM)", () => {
    const choices = suggestGpus(38, GPU_TYPES);
    expect(choices).toEqual([
      { name: "L40S", vramGiB: 48, count: 1 },
      { name: "A100-80G", vramGiB: 80, count: 1 },
      { name: "L4", vramGiB: 24, count: 2 },
    ]);
    expect(formatGpuChoices(choices)).toBe("1×L40S, 1×A100-80G or 2×L4");
    expect(formatGpuChoices(choices.slice(0, 2))).toBe("1×L40S or 1×A100-80G");
  });

  test("the 70B at 8k needs four 48 GB or 80 GB cards (two 80 GB give 144 GiB, short of 147)", () => {
    expect(suggestGpus(147.06, GPU_TYPES).map((g) => `${g.count}×${g.name}`)).toEqual(["4×L40S", "4×A100-80G", "8×L4"]);
  });

  test("counts are powers of two up to maxCount (a number or an option)", () => {
    expect(suggestGpus(147.06, GPU_TYPES, 2)).toEqual([]);
    expect(suggestGpus(147.06, GPU_TYPES, { maxCount: 4, limit: 1 })).toEqual([{ name: "L40S", vramGiB: 48, count: 4 }]);
    expect(suggestGpus(60, GPU_TYPES).map((g) => g.count)).toEqual([1, 2, 2]);
    expect(suggestGpus(10_000, GPU_TYPES)).toEqual([]);
  });

  test("a small model fits the smallest card", () => {
    expect(suggestGpus(1.97, GPU_TYPES)[0]).toEqual({ name: "L4", vramGiB: 24, count: 1 });
  });
});

test("formatGiB rounds up: whole GiB above 10, tenths below", () => {
  expect(formatGiB(37.2)).toBe("~38 GiB");
  expect(formatGiB(147.06)).toBe("~148 GiB");
  expect(formatGiB(1.967)).toBe("~2.0 GiB");
  expect(formatGiB(0.46)).toBe("~0.5 GiB");
});

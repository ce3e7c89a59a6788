import { expect, test } from "bun:test";
import { GgufFormatError, ggufAsConfig, hasShape, parseGgufHeader } from "../../src/hub/gguf-header";
import { ggufBytes } from "../support/fixture-hub";

const LLAMA_KEYS = {
  "general.architecture": "llama",
  "general.name": "tiny",
  "llama.context_length": 2048,
  "llama.embedding_length": 32,
  "llama.block_count": 2,
  "llama.feed_forward_length": 64,
  "llama.attention.head_count": 4,
  "llama.attention.head_count_kv": 2,
  "llama.attention.layer_norm_rms_epsilon": 0.000001,
  "general.file_type": 0,
};

test("reads scalars, skips arrays, and maps the hyperparameters to config names", () => {
  const header = parseGgufHeader(ggufBytes({ ...LLAMA_KEYS, "tokenizer.ggml.tokens": ["a", "b", "c"], "tokenizer.ggml.add_bos_token": false }));
  expect(header.complete).toBe(true);
  expect(header.version).toBe(3);
  expect(header.metadata["general.name"]).toBe("tiny");
  expect(header.metadata["llama.attention.layer_norm_rms_epsilon"]).toBeCloseTo(0.000001, 9);
  expect(header.metadata["tokenizer.ggml.tokens"]).toEqual({ arrayLength: 3 });
  expect(header.metadata["tokenizer.ggml.add_bos_token"]).toBe(false);
  expect(ggufAsConfig(header.metadata)).toEqual({
    model_type: "llama",
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    hidden_size: 32,
    head_dim: 8,
    max_position_embeddings: 2048,
  });
});

test("a truncated header gives what it has and says it is incomplete", () => {
  const bytes = ggufBytes({ ...LLAMA_KEYS, "tokenizer.ggml.tokens": Array.from({ length: 1000 }, (_, i) => `tok${i}`) });
  const cut = parseGgufHeader(bytes.subarray(0, bytes.byteLength - 100));
  expect(cut.complete).toBe(false);
  expect(cut.metadata["llama.block_count"]).toBe(2);
  expect(cut.metadata["tokenizer.ggml.tokens"]).toBeUndefined();
  expect(hasShape(cut)).toBe(false); // the tokenizer has not started yet in what was read

  const tiny = parseGgufHeader(bytes.subarray(0, 10));
  expect(tiny.complete).toBe(false);
  expect(ggufAsConfig(tiny.metadata)).toBeUndefined();
});

test("reading can stop once the tokenizer keys begin", () => {
  const bytes = ggufBytes({ ...LLAMA_KEYS, "tokenizer.ggml.model": "gpt2", "tokenizer.ggml.tokens": Array.from({ length: 1000 }, (_, i) => `tok${i}`) });
  expect(hasShape(parseGgufHeader(bytes.subarray(0, 600)))).toBe(true);
});

test("anything that is not GGUF is refused", () => {
  expect(() => parseGgufHeader(new TextEncoder().encode("PK\x03\x04 not a gguf file at all"))).toThrow(GgufFormatError);
  const v1 = ggufBytes({});
  new DataView(v1.buffer).setUint32(4, 1, true);
  expect(() => parseGgufHeader(v1)).toThrow(/version 1/);
});

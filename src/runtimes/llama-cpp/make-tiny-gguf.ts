/**
 * Writes a tiny random-weight `llama` model around the real Qwen2 tokenizer
 * (its chat template included), so `llama-server` can be tested end to end
 * on a machine with no trained model: 32-dim, 2 layers, 4 heads, ~25 MB, all
 * but 0.3 MB of it the token embedding. Its text is gibberish; tests assert
 * protocol, shape and determinism only. The same seed gives the same bytes.
 *
 *   bun src/runtimes/llama-cpp/make-tiny-gguf.ts [--out path.gguf] [--seed n]
 */
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import { type GgufEntry, GgufValueType } from "../../gguf/format";
import { readGgufFile } from "../../gguf/reader";
import { encodeGguf, type F32Tensor } from "../../gguf/writer";
import { ensureLlamaCppSource } from "./install";
import { llamaCppDir } from "./paths";

export const TINY_GGUF_NAME = "tiny-random-qwen2.gguf";
export const TINY_GGUF_SHAPE = { embedding: 32, blocks: 2, heads: 4, feedForward: 64, context: 2048 } as const;
const DEFAULT_SEED = 1;

/** Cached next to the llama-server binary of the same release. */
export function tinyGgufPath(): string {
  return join(llamaCppDir(), TINY_GGUF_NAME);
}

export function qwen2VocabPath(sourceDir: string): string {
  return join(sourceDir, "models", "ggml-vocab-qwen2.gguf");
}

export async function writeTinyGguf(options: { vocabPath: string; outPath: string; seed?: number }): Promise<void> {
  const vocab = await readGgufFile(options.vocabPath);
  const tokenizer = Object.entries(vocab.metadata).filter(([key]) => key.startsWith("tokenizer."));
  const tokens = vocab.metadata["tokenizer.ggml.tokens"]?.value;
  if (!tokens || typeof tokens !== "object" || !("items" in tokens)) throw new Error(`${options.vocabPath} has no tokenizer.ggml.tokens`);
  const vocabSize = tokens.items.length;

  const { embedding, blocks, heads, feedForward, context } = TINY_GGUF_SHAPE;
  const u32 = (value: number): GgufEntry => ({ type: GgufValueType.UINT32, value });
  const f32 = (value: number): GgufEntry => ({ type: GgufValueType.FLOAT32, value });
  const metadata: Record<string, GgufEntry> = {
    "general.architecture": { type: GgufValueType.STRING, value: "llama" },
    "general.name": { type: GgufValueType.STRING, value: "tiny-random-qwen2" },
    "general.file_type": u32(0), // all F32
    "llama.context_length": u32(context),
    "llama.embedding_length": u32(embedding),
    "llama.block_count": u32(blocks),
    "llama.feed_forward_length": u32(feedForward),
    "llama.attention.head_count": u32(heads),
    "llama.attention.head_count_kv": u32(heads),
    "llama.rope.dimension_count": u32(embedding / heads),
    "llama.rope.freq_base": f32(10000),
    "llama.attention.layer_norm_rms_epsilon": f32(1e-5),
    "llama.vocab_size": u32(vocabSize),
    ...Object.fromEntries(tokenizer),
  };

  const random = mulberry32(options.seed ?? DEFAULT_SEED);
  // Uniform weights scaled by 1/sqrt(fan-in) keep activations near unit size
  // through both blocks, so the logits are neither flat nor one-hot.
  const matrix = (name: string, fanIn: number, fanOut: number): F32Tensor => {
    const data = new Float32Array(fanIn * fanOut);
    const scale = Math.sqrt(3 / fanIn);
    for (let i = 0; i < data.length; i++) data[i] = (random() * 2 - 1) * scale;
    return { name, dims: [fanIn, fanOut], data };
  };
  const norm = (name: string): F32Tensor => ({ name, dims: [embedding], data: new Float32Array(embedding).fill(1) });

  // No output.weight: llama.cpp ties the output projection to token_embd.
  const tensors: F32Tensor[] = [matrix("token_embd.weight", embedding, vocabSize), norm("output_norm.weight")];
  for (let b = 0; b < blocks; b++) {
    const blk = `blk.${b}`;
    tensors.push(
      norm(`${blk}.attn_norm.weight`),
      matrix(`${blk}.attn_q.weight`, embedding, embedding),
      matrix(`${blk}.attn_k.weight`, embedding, embedding),
      matrix(`${blk}.attn_v.weight`, embedding, embedding),
      matrix(`${blk}.attn_output.weight`, embedding, embedding),
      norm(`${blk}.ffn_norm.weight`),
      matrix(`${blk}.ffn_gate.weight`, embedding, feedForward),
      matrix(`${blk}.ffn_up.weight`, embedding, feedForward),
      matrix(`${blk}.ffn_down.weight`, feedForward, embedding),
    );
  }

  // Written aside and renamed: a file at outPath is always a whole one.
  mkdirSync(dirname(options.outPath), { recursive: true });
  const partial = `${options.outPath}.${process.pid}.partial`;
  await Bun.write(partial, new Blob(encodeGguf(metadata, tensors)));
  renameSync(partial, options.outPath);
}

/** The cached tiny model, made (and llama.cpp's source fetched) on first use. */
export async function ensureTinyGguf(): Promise<string> {
  const path = tinyGgufPath();
  if (existsSync(path)) return path;
  const source = await ensureLlamaCppSource();
  await writeTinyGguf({ vocabPath: qwen2VocabPath(source), outPath: path });
  return path;
}

/** A small, fast, seedable PRNG: the same seed gives the same weights everywhere. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

if (import.meta.main) {
  const { values } = (await import("node:util")).parseArgs({ options: { out: { type: "string" }, seed: { type: "string" } } });
  if (values.out || values.seed) {
    const source = await ensureLlamaCppSource({ onProgress: ({ message }) => console.log(message) });
    const outPath = values.out ?? tinyGgufPath();
    await writeTinyGguf({ vocabPath: qwen2VocabPath(source), outPath, seed: values.seed ? Number(values.seed) : undefined });
    console.log(outPath);
  } else {
    console.log(await ensureTinyGguf());
  }
}

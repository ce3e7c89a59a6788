import { bytesPerParameter } from "./dtypes";

/**
 * The VRAM a model needs to serve, and which GPU configurations give it.
 * Pure: no I/O, every number from the arguments.
 *
 *   weights  = parameter count × bytes per weight (or the exact bytes, when known)
 *   KV cache = 2 (K and V) × layers × KV heads × head dim × bytes per KV value
 *              × context length × concurrent sequences
 *   overhead = max(1 GiB, 10 % of weights): the CUDA context, cuBLAS
 *              workspaces, activations of one forward pass and the runtime's
 *              own buffers; measured vLLM/llama.cpp processes sit inside it.
 *
 * It is compared with 90 % of the GPUs' total VRAM, vLLM's default
 * `gpu_memory_utilization`, which leaves room for fragmentation and for
 * the driver.
 */
export const GiB = 1024 ** 3;
export const DEFAULT_USABLE_FRACTION = 0.9;
const MIN_OVERHEAD_GIB = 1;
const OVERHEAD_FRACTION = 0.1;

/** The config.json fields the KV cache depends on (a decoder's; `text_config`'s for multimodal models). */
export interface AttentionConfig {
  num_hidden_layers: number;
  /** Grouped-query attention keeps this many K/V heads; absent means one per attention head. */
  num_key_value_heads?: number;
  num_attention_heads?: number;
  /** Absent means hidden_size / num_attention_heads. */
  head_dim?: number;
  hidden_size?: number;
}

export interface VramInput {
  parameterCount: number;
  dtype: string;
  /** The exact bytes of the weights when known (mixed dtypes, a GGUF file's size); wins over count × dtype. */
  weightBytes?: number;
  /** null for models that keep no KV cache (encoder-only embedding models such as BERT). */
  architecture: AttentionConfig | null;
  contextLength: number;
  kvCacheDtypeBytes?: number;
  /** Sequences held in the KV cache at once at full context. */
  batch?: number;
}

export interface VramEstimate {
  weightsGiB: number;
  kvCacheGiB: number;
  overheadGiB: number;
  totalGiB: number;
}

export function estimateVram(input: VramInput): VramEstimate {
  const weightBytes = input.weightBytes ?? input.parameterCount * requireBytes(input.dtype);
  const weightsGiB = weightBytes / GiB;
  const kvCacheGiB =
    input.architecture === null ? 0 : (kvCacheBytesPerToken(input.architecture, input.kvCacheDtypeBytes ?? 2) * input.contextLength * (input.batch ?? 1)) / GiB;
  const overheadGiB = Math.max(MIN_OVERHEAD_GIB, OVERHEAD_FRACTION * weightsGiB);
  return { weightsGiB, kvCacheGiB, overheadGiB, totalGiB: weightsGiB + kvCacheGiB + overheadGiB };
}

/** Bytes of K and V one token takes across all layers. */
export function kvCacheBytesPerToken(architecture: AttentionConfig, kvCacheDtypeBytes = 2): number {
  const { num_hidden_layers: layers, num_attention_heads: heads } = architecture;
  const kvHeads = architecture.num_key_value_heads ?? heads;
  const headDim = architecture.head_dim ?? (architecture.hidden_size && heads ? architecture.hidden_size / heads : undefined);
  if (!kvHeads || !headDim) {
    throw new RangeError("The KV cache needs num_key_value_heads or num_attention_heads, and head_dim or hidden_size.");
  }
  return 2 * layers * kvHeads * headDim * kvCacheDtypeBytes;
}

function requireBytes(dtype: string): number {
  const bytes = bytesPerParameter(dtype);
  if (bytes === undefined) throw new RangeError(`Unknown dtype '${dtype}': cannot size the weights.`);
  return bytes;
}

export interface GpuType {
  name: string;
  vramGiB: number;
}

export interface GpuSelection extends GpuType {
  count: number;
}

/** The VRAM a selection offers to the model: the total times the usable fraction. */
export function usableGiB(gpus: GpuSelection, usableFraction = DEFAULT_USABLE_FRACTION): number {
  return gpus.vramGiB * gpus.count * usableFraction;
}

export function fitsOn(totalGiB: number, gpus: GpuSelection, usableFraction = DEFAULT_USABLE_FRACTION): boolean {
  return totalGiB <= usableGiB(gpus, usableFraction);
}

export interface SuggestOptions {
  /** Most GPUs in one pod (default 8). */
  maxCount?: number;
  usableFraction?: number;
  /** How many configurations to return (default 3). */
  limit?: number;
}

/**
 * The smallest configurations that fit: fewest GPUs first, then least VRAM
 * per GPU; one per (count, VRAM) so two 80 GB cards do not crowd out a
 * different option. Counts are powers of two because tensor parallelism
 * splits attention heads evenly, and head counts are multiples of 2, 4 and 8,
 * rarely of 3 or 6.
 */
export function suggestGpus(totalGiB: number, gpuTypes: GpuType[], options: SuggestOptions | number = {}): GpuSelection[] {
  const { maxCount = 8, usableFraction = DEFAULT_USABLE_FRACTION, limit = 3 } = typeof options === "number" ? { maxCount: options } : options;
  const byVram = [...gpuTypes].sort((a, b) => a.vramGiB - b.vramGiB);
  const seen = new Set<string>();
  const fitting: GpuSelection[] = [];
  for (let count = 1; count <= maxCount; count *= 2) {
    for (const type of byVram) {
      const key = `${count}:${type.vramGiB}`;
      if (seen.has(key) || !fitsOn(totalGiB, { ...type, count }, usableFraction)) continue;
      seen.add(key);
      fitting.push({ name: type.name, vramGiB: type.vramGiB, count });
    }
  }
  return fitting.slice(0, limit);
}

/** "1×A100-80G or 2×L40S"; "" for none. */
export function formatGpuChoices(choices: GpuSelection[]): string {
  const parts = choices.map(formatGpus);
  return parts.length <= 1 ? (parts[0] ?? "") : `${parts.slice(0, -1).join(", ")} or ${parts.at(-1)}`;
}

export function formatGpus(gpus: Pick<GpuSelection, "name" | "count">): string {
  return `${gpus.count}×${gpus.name}`;
}

/** A size for people: "~38 GiB" above 10 GiB (rounded up), "~1.9 GiB" below. */
export function formatGiB(gib: number): string {
  return gib >= 10 ? `~${Math.ceil(gib)} GiB` : `~${(Math.ceil(gib * 10) / 10).toFixed(1)} GiB`;
}

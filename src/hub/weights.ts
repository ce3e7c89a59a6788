import type { WeightFormat } from "./capabilities";
import { bytesPerParameter, ggufQuantFromFileName, normalizeDtype } from "./dtypes";
import { configDtype, estimateParameterCount } from "./model-shape";
import type { ModelConfig, ModelInfo } from "./schemas";

/** How big a repo's weights are once loaded, and how that was worked out. */
export interface WeightsSize {
  parameterCount: number | null;
  /** The checkpoint's dtype (the most common one for mixed checkpoints), or the GGUF quantization. */
  dtype: string | null;
  /** The dtype the weights take in VRAM (32-bit checkpoints are served in 16 bits). */
  servingDtype: string | null;
  /** Bytes in VRAM; null when unknown. */
  bytes: number | null;
  from: "safetensors" | "gguf" | "config" | null;
  warnings: string[];
}

/** A GGUF file of the repo and its size; split files (`-00001-of-00003.gguf`) count as one. */
export interface GgufFile {
  file: string;
  bytes: number | undefined;
}

/** Quantizations picked when the launch names no file: the usual quality/size trade-off first. */
const GGUF_PREFERENCE = ["Q4_K_M", "Q4_K_S", "Q5_K_M", "Q8_0", "Q4_0", "Q6_K", "F16", "BF16"];
const SPLIT = /-(\d{5})-of-(\d{5})\.gguf$/;

export function ggufFiles(info: ModelInfo): GgufFile[] {
  const groups = new Map<string, GgufFile>();
  for (const { rfilename, size } of info.siblings) {
    // mmproj files are vision projectors that go alongside a model file, not models.
    if (!rfilename.endsWith(".gguf") || /mmproj/i.test(rfilename)) continue;
    const key = rfilename.replace(SPLIT, "");
    const group = groups.get(key);
    if (!group) groups.set(key, { file: rfilename, bytes: size });
    else {
      if (rfilename < group.file) group.file = rfilename; // llama.cpp is given the first shard
      group.bytes = group.bytes !== undefined && size !== undefined ? group.bytes + size : undefined;
    }
  }
  return [...groups.values()].sort((a, b) => a.file.localeCompare(b.file));
}

/** The requested file (undefined when the repo has no such file), else the preferred quantization. */
export function chooseGgufFile(info: ModelInfo, requested?: string): GgufFile | undefined {
  const files = ggufFiles(info);
  if (requested) return files.find((f) => f.file === requested || f.file.replace(SPLIT, ".gguf") === requested);
  for (const quant of GGUF_PREFERENCE) {
    const match = files.find((f) => ggufQuantFromFileName(f.file) === quant);
    if (match) return match;
  }
  return files[0];
}

/**
 * Parameter count first from the hub's safetensors metadata (exact, per
 * dtype), else from the GGUF file (its size is what loads), else estimated
 * from config.json (see model-shape.ts).
 */
export function sizeWeights(info: ModelInfo, config: ModelConfig | null, format: WeightFormat | null, gguf?: GgufFile): WeightsSize {
  if (format === "gguf" && gguf) return ggufSize(info, gguf);
  if (info.safetensors && info.safetensors.total > 0) return safetensorsSize(info.safetensors.parameters, info.safetensors.total);
  const estimated = config ? estimateParameterCount(config) : undefined;
  if (config && estimated) {
    const declared = configDtype(config);
    const dtype = normalizeDtype(declared ?? "BF16");
    const serving = servingDtype(dtype);
    const warnings = [`The parameter count (${(estimated / 1e9).toFixed(2)}B) is estimated from config.json; the repo has no safetensors metadata.`];
    if (!declared) warnings.push("config.json names no dtype; assuming BF16.");
    const bytesPer = bytesPerParameter(serving);
    return { parameterCount: estimated, dtype, servingDtype: serving, bytes: bytesPer ? estimated * bytesPer : null, from: "config", warnings };
  }
  const total = info.gguf?.total;
  return { parameterCount: total ?? null, dtype: null, servingDtype: null, bytes: null, from: null, warnings: [] };
}

function safetensorsSize(parameters: Record<string, number>, total: number): WeightsSize {
  const warnings: string[] = [];
  let bytes = 0;
  let dominant: [string, number] = ["BF16", -1];
  for (const [raw, count] of Object.entries(parameters)) {
    const dtype = normalizeDtype(raw);
    if (count > dominant[1]) dominant = [dtype, count];
    const bytesPer = bytesPerParameter(servingDtype(dtype));
    if (bytesPer === undefined) warnings.push(`Unknown dtype ${raw} in the safetensors metadata; counted as 2 bytes a weight.`);
    bytes += count * (bytesPer ?? 2);
  }
  const serving = servingDtype(dominant[0]);
  if (serving !== dominant[0])
    warnings.push(`${dominant[0]} weights are served in ${serving}, the runtimes' default, so they take half their file size in VRAM.`);
  return { parameterCount: total, dtype: dominant[0], servingDtype: serving, bytes, from: "safetensors", warnings };
}

function ggufSize(info: ModelInfo, gguf: GgufFile): WeightsSize {
  const quant = ggufQuantFromFileName(gguf.file) ?? null;
  const total = info.gguf?.total ?? null;
  if (gguf.bytes !== undefined) {
    return { parameterCount: total, dtype: quant, servingDtype: quant, bytes: gguf.bytes, from: "gguf", warnings: [] };
  }
  if (total === null) return { parameterCount: null, dtype: quant, servingDtype: quant, bytes: null, from: null, warnings: [] };
  // No size listed: the quantization's bits per weight, or F32 (the largest GGUF type) so the estimate errs safe.
  const assumed = quant && bytesPerParameter(quant) !== undefined ? quant : "F32";
  const warning = quant
    ? `The hub lists no size for ${gguf.file}; estimated from its ${quant} quantization.`
    : `The hub lists no size for ${gguf.file} and its name gives no quantization; assuming F32 weights, the largest.`;
  return { parameterCount: total, dtype: quant, servingDtype: assumed, bytes: total * bytesPerParameter(assumed)!, from: "gguf", warnings: [warning] };
}

/**
 * vLLM's and TEI's `dtype=auto` load 32-bit checkpoints in 16 bits (F16) on
 * GPUs; everything else loads as stored.
 */
function servingDtype(dtype: string): string {
  return dtype === "F32" || dtype === "F64" ? "F16" : dtype;
}

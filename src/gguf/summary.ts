/**
 * The facts a launch is validated against, under their usual names:
 * architecture, size, context length, quantisation, chat template.
 */
import { GGML_TYPE_NAMES, type GgufArray, type GgufEntry, LLAMA_FILE_TYPE_NAMES } from "./format";
import { GgufError, type GgufHeader } from "./reader";

export interface GgufSummary {
  version: number;
  architecture: string;
  name: string | null;
  contextLength: number | null;
  blockCount: number | null;
  embeddingLength: number | null;
  headCount: number | null;
  headCountKv: number | null;
  tokenizerModel: string | null;
  vocabSize: number | null;
  hasChatTemplate: boolean;
  tensorCount: number;
  /** Summed from the tensor shapes; null when the tensor table was not read. */
  parameterCount: number | null;
  /** The quantisation (`Q4_K_M`, `F16`, …): `general.file_type`, else the commonest matrix type. */
  fileType: string | null;
}

/** Throws MALFORMED when the header names no architecture: nothing could load it. */
export function summarizeGguf(header: GgufHeader): GgufSummary {
  const meta = header.metadata;
  const architecture = stringValue(meta["general.architecture"]);
  if (!architecture) throw new GgufError("MALFORMED", "the GGUF file has no general.architecture");
  const arch = (key: string) => numberValue(meta[`${architecture}.${key}`]);
  const tokens = meta["tokenizer.ggml.tokens"]?.value;
  return {
    version: header.version,
    architecture,
    name: stringValue(meta["general.name"]),
    contextLength: arch("context_length"),
    blockCount: arch("block_count"),
    embeddingLength: arch("embedding_length"),
    headCount: arch("attention.head_count"),
    headCountKv: arch("attention.head_count_kv"),
    tokenizerModel: stringValue(meta["tokenizer.ggml.model"]),
    vocabSize: isArray(tokens) ? tokens.items.length : arch("vocab_size"),
    hasChatTemplate: typeof meta["tokenizer.chat_template"]?.value === "string",
    tensorCount: header.tensorCount,
    parameterCount: header.tensors ? header.tensors.reduce((sum, t) => sum + t.dims.reduce((n, d) => n * d, 1), 0) : null,
    fileType: fileType(header),
  };
}

function fileType(header: GgufHeader): string | null {
  const declared = numberValue(header.metadata["general.file_type"]);
  if (declared !== null) return LLAMA_FILE_TYPE_NAMES[declared] ?? `file type ${declared}`;
  // Norms and biases stay F32 in every quantisation; the matrices tell.
  const counts = new Map<number, number>();
  for (const tensor of header.tensors ?? []) if (tensor.dims.length >= 2) counts.set(tensor.type, (counts.get(tensor.type) ?? 0) + 1);
  const commonest = [...counts].sort((a, b) => b[1] - a[1])[0];
  return commonest ? (GGML_TYPE_NAMES[commonest[0]] ?? `type ${commonest[0]}`) : null;
}

function stringValue(entry: GgufEntry | undefined): string | null {
  return typeof entry?.value === "string" ? entry.value : null;
}

/** Per-layer arrays (some architectures vary head counts by layer) count as their largest value. */
function numberValue(entry: GgufEntry | undefined): number | null {
  const value = entry?.value;
  if (typeof value === "number" || typeof value === "bigint") return Number(value);
  // A reduce, not Math.max(...items): a hostile array of millions would overflow the stack.
  if (isArray(value) && value.items.length > 0 && value.items.every((v) => typeof v === "number"))
    return (value.items as number[]).reduce((a, b) => Math.max(a, b));
  return null;
}

function isArray(value: unknown): value is GgufArray {
  return typeof value === "object" && value !== null && "items" in value;
}

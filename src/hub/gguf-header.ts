/**
 * Reads the metadata key/values at the start of a GGUF file (format v2/v3:
 * magic "GGUF", version, tensor count, key/value count, then the pairs), so a
 * GGUF repo's KV-cache shape is known without downloading the weights. Only
 * scalars are kept; arrays (the tokenizer's 150k strings) are skipped and
 * recorded by length.
 */
export type GgufValue = number | bigint | string | boolean | { arrayLength: number };

export interface GgufHeader {
  version: number;
  tensorCount: bigint;
  metadata: Record<string, GgufValue>;
  /** False when the bytes ended before the last key/value: read more to see the rest. */
  complete: boolean;
}

const MAGIC = 0x46554747; // "GGUF" little-endian
const SCALAR_SIZES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const STRING = 8;
const ARRAY = 9;

class Truncated extends Error {}

export class GgufFormatError extends Error {}

/** Parses as much of the header as `bytes` holds; throws GgufFormatError when it is not GGUF. */
export function parseGgufHeader(bytes: Uint8Array): GgufHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  const need = (n: number) => {
    if (offset + n > bytes.byteLength) throw new Truncated();
  };
  const u32 = () => (need(4), (offset += 4), view.getUint32(offset - 4, true));
  const u64 = () => (need(8), (offset += 8), view.getBigUint64(offset - 8, true));
  const length = () => {
    const n = u64();
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufFormatError("GGUF length out of range");
    return Number(n);
  };
  const string = () => {
    const n = length();
    need(n);
    offset += n;
    return new TextDecoder().decode(bytes.subarray(offset - n, offset));
  };
  const scalar = (type: number): GgufValue => {
    const size = SCALAR_SIZES[type];
    if (size === undefined) throw new GgufFormatError(`unknown GGUF value type ${type}`);
    need(size);
    const at = offset;
    offset += size;
    switch (type) {
      case 0: return view.getUint8(at);
      case 1: return view.getInt8(at);
      case 2: return view.getUint16(at, true);
      case 3: return view.getInt16(at, true);
      case 4: return view.getUint32(at, true);
      case 5: return view.getInt32(at, true);
      case 6: return view.getFloat32(at, true);
      case 7: return view.getUint8(at) !== 0;
      case 10: return view.getBigUint64(at, true);
      case 11: return view.getBigInt64(at, true);
      default: return view.getFloat64(at, true);
    }
  };
  const skipArray = (): GgufValue => {
    const type = u32();
    const n = length();
    if (type === STRING) for (let i = 0; i < n; i++) string();
    else if (type === ARRAY) throw new GgufFormatError("nested GGUF arrays are not supported");
    else {
      const size = SCALAR_SIZES[type];
      if (size === undefined) throw new GgufFormatError(`unknown GGUF array type ${type}`);
      need(size * n);
      offset += size * n;
    }
    return { arrayLength: n };
  };

  let version = 0;
  let tensorCount = 0n;
  const metadata: Record<string, GgufValue> = {};
  try {
    if (u32() !== MAGIC) throw new GgufFormatError("not a GGUF file (bad magic)");
    version = u32();
    if (version < 2 || version > 3) throw new GgufFormatError(`unsupported GGUF version ${version}`);
    tensorCount = u64();
    const pairs = length();
    for (let i = 0; i < pairs; i++) {
      const key = string();
      const type = u32();
      metadata[key] = type === STRING ? string() : type === ARRAY ? skipArray() : scalar(type);
    }
    return { version, tensorCount, metadata, complete: true };
  } catch (error) {
    if (error instanceof Truncated) return { version, tensorCount, metadata, complete: false };
    throw error;
  }
}

/**
 * The header's hyperparameters as config.json names them, so the rest of
 * the module reads one shape; undefined when the header lacks them.
 */
export function ggufAsConfig(metadata: Record<string, GgufValue>): Record<string, unknown> | undefined {
  const arch = metadata["general.architecture"];
  if (typeof arch !== "string") return undefined;
  const n = (key: string) => {
    const value = metadata[`${arch}.${key}`];
    return typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : undefined;
  };
  const layers = n("block_count");
  const heads = n("attention.head_count");
  const hidden = n("embedding_length");
  if (!layers || !heads || !hidden) return undefined;
  return {
    model_type: arch,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: n("attention.head_count_kv") ?? heads,
    hidden_size: hidden,
    head_dim: n("attention.key_length") ?? hidden / heads,
    max_position_embeddings: n("context_length"),
  };
}

/**
 * True once reading more cannot change `ggufAsConfig`: the whole header was
 * read, or the tokenizer's keys have begun (llama.cpp writes the
 * architecture's hyperparameters before them).
 */
export function hasShape(header: GgufHeader): boolean {
  if (header.complete) return true;
  return ggufAsConfig(header.metadata) !== undefined && Object.keys(header.metadata).some((key) => key.startsWith("tokenizer."));
}

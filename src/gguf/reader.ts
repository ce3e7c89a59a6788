/**
 * Reads a GGUF file's header: its key/value metadata and tensor table, from
 * the start of the file only (a model is gigabytes; its header is a few MB,
 * mostly the tokenizer). The one parser behind both the hub's validation
 * (over HTTP range reads) and the llama.cpp runtime (from disk).
 */
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VALUE_SIZE,
  type GgufArray,
  type GgufEntry,
  type GgufScalar,
  type GgufSkippedArray,
  type GgufTensorInfo,
  GgufValueType,
} from "./format";

export type GgufErrorCode = "BAD_MAGIC" | "UNSUPPORTED_VERSION" | "TRUNCATED" | "MALFORMED";

export class GgufError extends Error {
  constructor(
    readonly code: GgufErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "GgufError";
  }
}

export interface GgufHeader {
  version: number;
  tensorCount: number;
  metadata: Record<string, GgufEntry>;
  /** Null when the bytes given end inside the tensor table (the metadata was complete). */
  tensors: GgufTensorInfo[] | null;
  /** Where tensor data starts in the file; null with `tensors`. */
  dataOffset: number | null;
}

/** A header as far as a prefix of the file holds it: the key/values read whole so far (version and counts 0 until read). */
export interface GgufPrefix extends GgufHeader {
  /** True once every key/value was read (the tensor table may still be cut). */
  metadataComplete: boolean;
  /** Where the bytes ran out, as the TRUNCATED error to throw if no more come; null for a whole header. */
  cut: GgufError | null;
}

export interface ParseGgufOptions {
  /**
   * Passes over array items (the tokenizer's ~150k strings) instead of
   * decoding them, keeping only each array's length: a caller that wants
   * scalars does not pay time and memory for millions of hostile strings.
   */
  skipArrayItems?: boolean;
}

/** Tensor dimensions beyond this are not a GGUF llama.cpp could load (GGML_MAX_DIMS). */
const MAX_DIMS = 4;

/**
 * Parses as much of the header as `bytes` holds. Throws only for bytes that
 * are not a GGUF header (BAD_MAGIC, UNSUPPORTED_VERSION, MALFORMED); running
 * out of bytes is reported in `cut`, so a reader of a prefix can ask for more.
 */
export function parseGgufPrefix(bytes: Uint8Array, options: ParseGgufOptions = {}): GgufPrefix {
  const reader = new ByteReader(bytes, options.skipArrayItems ?? false);
  const prefix: GgufPrefix = { version: 0, tensorCount: 0, metadata: {}, tensors: null, dataOffset: null, metadataComplete: false, cut: null };
  try {
    reader.need(4, "the magic bytes 'GGUF'");
    if (reader.u32() !== GGUF_MAGIC) throw new GgufError("BAD_MAGIC", "not a GGUF file: it does not start with the bytes 'GGUF'");
    prefix.version = reader.u32();
    // Version 1 used 32-bit lengths; nothing current writes it.
    if (prefix.version !== 2 && prefix.version !== 3) {
      throw new GgufError("UNSUPPORTED_VERSION", `GGUF version ${prefix.version} is not supported (2 and 3 are)`);
    }
    prefix.tensorCount = reader.count("the tensor count");
    const metadataCount = reader.count("the metadata count");
    for (let i = 0; i < metadataCount; i++) {
      const key = reader.string();
      const type = reader.u32() as GgufValueType;
      // Set only once whole: a cut array is absent, never short.
      prefix.metadata[key] = { type, value: reader.value(type, key) };
    }
    prefix.metadataComplete = true;

    const tensors: GgufTensorInfo[] = [];
    for (let i = 0; i < prefix.tensorCount; i++) tensors.push(reader.tensorInfo());
    const alignment = prefix.metadata["general.alignment"]?.value ?? GGUF_DEFAULT_ALIGNMENT;
    // llama.cpp requires a power of two; anything else would put the data nowhere.
    if (typeof alignment !== "number" || alignment < 1 || (alignment & (alignment - 1)) !== 0) {
      throw new GgufError("MALFORMED", `general.alignment (${alignment}) is not a power of two`);
    }
    prefix.tensors = tensors;
    prefix.dataOffset = Math.ceil(reader.offset / alignment) * alignment;
  } catch (error) {
    if (!(error instanceof GgufError && error.code === "TRUNCATED")) throw error;
    prefix.cut = error;
  }
  return prefix;
}

/**
 * Parses the header from the first bytes of a GGUF file. Throws TRUNCATED
 * when they end before the metadata does; ending inside the tensor table
 * gives `tensors: null`.
 */
export function parseGgufHeader(bytes: Uint8Array, options: ParseGgufOptions = {}): GgufHeader {
  const { metadataComplete, cut, ...header } = parseGgufPrefix(bytes, options);
  if (!metadataComplete) throw cut!;
  return header;
}

/** The first `length` bytes of a file (fewer when the file is shorter). */
export type GgufPrefixReader = (length: number) => Promise<Uint8Array>;

export interface ReadGgufOptions extends ParseGgufOptions {
  /** Stops at a prefix that already answers the caller (say, the hyperparameters are in); default: the whole header. */
  enough?: (prefix: GgufPrefix) => boolean;
  /** The largest prefix read before the header counts as malformed; default 64 MiB. */
  maxBytes?: number;
}

const FIRST_READ = 1 << 20;
// Real headers are a few MB (a 256k-token vocabulary is under 10); beyond this, it is hostile or broken.
const LARGEST_HEADER = 64 << 20;

/**
 * Reads ever longer prefixes (1 MiB, then ×4) until the header parses whole
 * or `enough` says so: a file on disk or a range of a hub's file costs only
 * what the header needs. Each prefix is read from the start, so a server
 * that ignores `Range` costs no more than one that honours it.
 */
export async function readGgufHeader(read: GgufPrefixReader, options: ReadGgufOptions = {}): Promise<GgufPrefix> {
  const maxBytes = options.maxBytes ?? LARGEST_HEADER;
  for (let length = Math.min(FIRST_READ, maxBytes); ; length = Math.min(length * 4, maxBytes)) {
    const bytes = await read(length);
    const prefix = parseGgufPrefix(bytes, options);
    if (!prefix.cut || options.enough?.(prefix)) return prefix;
    if (bytes.length < length) {
      throw prefix.metadataComplete ? new GgufError("TRUNCATED", `the GGUF file ends inside its tensor table (${bytes.length} bytes)`) : prefix.cut;
    }
    if (length >= maxBytes) throw new GgufError("MALFORMED", `the GGUF header is larger than ${maxBytes >> 20} MiB`);
  }
}

export function readGgufFile(path: string): Promise<GgufHeader> {
  const file = Bun.file(path);
  return readGgufHeader(async (length) => new Uint8Array(await file.slice(0, length).arrayBuffer()));
}

/**
 * Little-endian reads that never run past the bytes: every length is checked
 * against what is left before anything is allocated for it, so a hostile
 * length fails as TRUNCATED instead of exhausting memory.
 */
class ByteReader {
  offset = 0;
  private readonly view: DataView;
  private readonly decoder = new TextDecoder("utf-8", { fatal: false });

  constructor(
    private readonly bytes: Uint8Array,
    private readonly skipArrayItems: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  need(size: number, what: string): void {
    if (this.offset + size > this.bytes.length) {
      throw new GgufError("TRUNCATED", `the GGUF data ends at byte ${this.bytes.length}, inside ${what} (at byte ${this.offset})`);
    }
  }

  u32(): number {
    this.need(4, "a 32-bit value");
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  /** A u64 count or length, which must fit the bytes that follow it to be believed. */
  count(what: string, minItemSize = 0): number {
    this.need(8, what);
    const value = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufError("MALFORMED", `${what} (${value}) is impossibly large`);
    const n = Number(value);
    // An absurd count fails here rather than after allocating for it.
    if (minItemSize > 0) this.need(n * minItemSize, what);
    return n;
  }

  string(): string {
    const start = this.skipString();
    return this.decoder.decode(this.bytes.subarray(start, this.offset));
  }

  /** Moves past a string; returns where its bytes start. */
  private skipString(): number {
    const length = this.count("a string's length");
    this.need(length, "a string");
    this.offset += length;
    return this.offset - length;
  }

  value(type: GgufValueType, key: string): GgufScalar | GgufArray | GgufSkippedArray {
    if (type === GgufValueType.STRING) return this.string();
    if (type !== GgufValueType.ARRAY) return this.scalar(type, key);
    const itemType = this.u32() as GgufValueType;
    const size = GGUF_VALUE_SIZE[itemType];
    // Checked before the length, so even an empty array of a bad type is refused.
    if (itemType === GgufValueType.ARRAY) throw new GgufError("MALFORMED", `the array '${key}' holds arrays, which llama.cpp refuses`);
    if (itemType !== GgufValueType.STRING && size === undefined) throw new GgufError("MALFORMED", `the array '${key}' has an unknown item type ${itemType}`);
    // A string is at least its 8-byte length.
    const length = this.count(`the array '${key}'`, size ?? 8);
    if (this.skipArrayItems) {
      if (size !== undefined)
        this.offset += length * size; // count() checked these bytes are there
      else for (let i = 0; i < length; i++) this.skipString();
      return { itemType, length };
    }
    const items: GgufScalar[] = new Array(length);
    for (let i = 0; i < length; i++) items[i] = itemType === GgufValueType.STRING ? this.string() : this.scalar(itemType, key);
    return { itemType, items };
  }

  private scalar(type: GgufValueType, key: string): GgufScalar {
    const size = GGUF_VALUE_SIZE[type];
    if (size === undefined) throw new GgufError("MALFORMED", `the metadata key '${key}' has an unknown value type ${type}`);
    this.need(size, `the value of '${key}'`);
    const at = this.offset;
    this.offset += size;
    const v = this.view;
    switch (type) {
      case GgufValueType.UINT8:
        return v.getUint8(at);
      case GgufValueType.INT8:
        return v.getInt8(at);
      case GgufValueType.BOOL:
        return v.getUint8(at) !== 0;
      case GgufValueType.UINT16:
        return v.getUint16(at, true);
      case GgufValueType.INT16:
        return v.getInt16(at, true);
      case GgufValueType.UINT32:
        return v.getUint32(at, true);
      case GgufValueType.INT32:
        return v.getInt32(at, true);
      case GgufValueType.FLOAT32:
        return v.getFloat32(at, true);
      case GgufValueType.FLOAT64:
        return v.getFloat64(at, true);
      case GgufValueType.UINT64:
        return safeNumber(v.getBigUint64(at, true));
      default:
        return safeNumber(v.getBigInt64(at, true));
    }
  }

  tensorInfo(): GgufTensorInfo {
    const name = this.string();
    const nDims = this.u32();
    if (nDims < 1 || nDims > MAX_DIMS) throw new GgufError("MALFORMED", `tensor '${name}' has ${nDims} dimensions`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(this.count(`tensor '${name}''s shape`));
    const type = this.u32();
    const offset = this.count(`tensor '${name}''s offset`);
    return { name, dims, type, offset };
  }
}

/** 64-bit integers as plain numbers when exact, so callers rarely meet a bigint. */
function safeNumber(value: bigint): number | bigint {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value;
}

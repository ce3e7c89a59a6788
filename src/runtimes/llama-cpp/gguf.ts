/**
 * Reads a GGUF file's header: its key/value metadata and tensor table, from
 * the start of the file only (a model is gigabytes; its header is a few MB,
 * mostly the tokenizer). Enough to validate a model before launching it:
 * architecture, size, context length, quantisation, chat template.
 */
import {
  GGML_TYPE_NAMES,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VALUE_SIZE,
  GgufValueType,
  LLAMA_FILE_TYPE_NAMES,
  type GgufArray,
  type GgufEntry,
  type GgufScalar,
  type GgufTensorInfo,
} from "./gguf-format";

export * from "./gguf-format";

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

/** Tensor dimensions beyond this are not a GGUF llama.cpp could load (GGML_MAX_DIMS). */
const MAX_DIMS = 4;

/**
 * Parses the header from the first bytes of a GGUF file. Throws TRUNCATED
 * when they end before the metadata does; ending inside the tensor table
 * gives `tensors: null`, so a caller reading a prefix knows to read more.
 */
export function parseGgufHeader(bytes: Uint8Array): GgufHeader {
  const reader = new ByteReader(bytes);
  reader.need(4, "the magic bytes 'GGUF'");
  if (reader.u32() !== GGUF_MAGIC) throw new GgufError("BAD_MAGIC", "not a GGUF file: it does not start with the bytes 'GGUF'");
  const version = reader.u32();
  // Version 1 used 32-bit lengths; nothing current writes it.
  if (version !== 2 && version !== 3) throw new GgufError("UNSUPPORTED_VERSION", `GGUF version ${version} is not supported (2 and 3 are)`);
  const tensorCount = reader.count("the tensor count");
  const metadataCount = reader.count("the metadata count");

  const metadata: Record<string, GgufEntry> = {};
  for (let i = 0; i < metadataCount; i++) {
    const key = reader.string();
    const type = reader.u32() as GgufValueType;
    metadata[key] = { type, value: reader.value(type, key) };
  }

  const tensors: GgufTensorInfo[] = [];
  try {
    for (let i = 0; i < tensorCount; i++) tensors.push(reader.tensorInfo());
  } catch (error) {
    if (error instanceof GgufError && error.code === "TRUNCATED") return { version, tensorCount, metadata, tensors: null, dataOffset: null };
    throw error;
  }
  const alignment = Number(metadata["general.alignment"]?.value ?? GGUF_DEFAULT_ALIGNMENT);
  const dataOffset = Math.ceil(reader.offset / alignment) * alignment;
  return { version, tensorCount, metadata, tensors, dataOffset };
}

/** Reads `length` bytes at `start` (fewer at the end of the file). */
export type ByteRangeReader = (start: number, length: number) => Promise<Uint8Array>;

const FIRST_READ = 1 << 20;
const LARGEST_HEADER = 256 << 20;

/**
 * Reads ever larger prefixes (1 MiB, then ×4) until the whole header parses:
 * a file on disk or a byte range from a hub costs only what the header needs.
 */
export async function readGgufHeader(read: ByteRangeReader): Promise<GgufHeader> {
  for (let length = FIRST_READ; ; length *= 4) {
    const bytes = await read(0, length);
    const atEnd = bytes.length < length;
    try {
      const header = parseGgufHeader(bytes);
      if (header.tensors || atEnd) {
        if (!header.tensors) throw new GgufError("TRUNCATED", `the GGUF file ends inside its tensor table (${bytes.length} bytes)`);
        return header;
      }
    } catch (error) {
      if (!(error instanceof GgufError && error.code === "TRUNCATED") || atEnd) throw error;
    }
    if (length >= LARGEST_HEADER) throw new GgufError("MALFORMED", `the GGUF header is larger than ${LARGEST_HEADER >> 20} MiB`);
  }
}

export function readGgufFile(path: string): Promise<GgufHeader> {
  const file = Bun.file(path);
  return readGgufHeader(async (start, length) => new Uint8Array(await file.slice(start, start + length).arrayBuffer()));
}

/** For a hub's file URL; a server that ignores `Range` is read only as far as needed. */
export function readGgufUrl(url: string, init: RequestInit = {}): Promise<GgufHeader> {
  return readGgufHeader(async (start, length) => {
    const headers = new Headers(init.headers);
    headers.set("range", `bytes=${start}-${start + length - 1}`);
    const response = await fetch(url, { ...init, headers });
    if (response.status === 416) return new Uint8Array(); // asked past the end of the file
    if (!response.ok || !response.body) throw new Error(`GET ${url} answered ${response.status}`);
    const skip = response.status === 206 ? 0 : start;
    return readPrefix(response.body, skip + length).then((bytes) => bytes.subarray(skip));
  });
}

/** The first `length` bytes of a stream, cancelling the rest (a model file is gigabytes). */
async function readPrefix(stream: ReadableStream<Uint8Array>, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let filled = 0;
  const reader = stream.getReader();
  try {
    while (filled < length) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.length, length - filled);
      out.set(value.subarray(0, take), filled);
      filled += take;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return out.subarray(0, filled);
}

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

/** The facts a launch is validated against, under their usual names. */
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
  if (isArray(value) && value.items.length > 0 && value.items.every((v) => typeof v === "number")) return Math.max(...(value.items as number[]));
  return null;
}

function isArray(value: unknown): value is GgufArray {
  return typeof value === "object" && value !== null && "items" in value;
}

class ByteReader {
  offset = 0;
  private readonly view: DataView;
  private readonly decoder = new TextDecoder("utf-8", { fatal: false });

  constructor(private readonly bytes: Uint8Array) {
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
    const length = this.count("a string's length");
    this.need(length, "a string");
    const text = this.decoder.decode(this.bytes.subarray(this.offset, this.offset + length));
    this.offset += length;
    return text;
  }

  value(type: GgufValueType, key: string): GgufScalar | GgufArray {
    switch (type) {
      case GgufValueType.STRING:
        return this.string();
      case GgufValueType.ARRAY: {
        const itemType = this.u32() as GgufValueType;
        const length = this.count(`the array '${key}'`, GGUF_VALUE_SIZE[itemType] ?? 8);
        const items: (GgufScalar | GgufArray)[] = new Array(length);
        for (let i = 0; i < length; i++) items[i] = this.value(itemType, key);
        return { itemType, items } as GgufArray;
      }
      default:
        return this.scalar(type, key);
    }
  }

  private scalar(type: GgufValueType, key: string): GgufScalar {
    const size = GGUF_VALUE_SIZE[type];
    if (size === undefined) throw new GgufError("MALFORMED", `the metadata key '${key}' has an unknown value type ${type}`);
    this.need(size, `the value of '${key}'`);
    const at = this.offset;
    this.offset += size;
    const v = this.view;
    switch (type) {
      case GgufValueType.UINT8: return v.getUint8(at);
      case GgufValueType.INT8: return v.getInt8(at);
      case GgufValueType.BOOL: return v.getUint8(at) !== 0;
      case GgufValueType.UINT16: return v.getUint16(at, true);
      case GgufValueType.INT16: return v.getInt16(at, true);
      case GgufValueType.UINT32: return v.getUint32(at, true);
      case GgufValueType.INT32: return v.getInt32(at, true);
      case GgufValueType.FLOAT32: return v.getFloat32(at, true);
      case GgufValueType.FLOAT64: return v.getFloat64(at, true);
      case GgufValueType.UINT64: return safeNumber(v.getBigUint64(at, true));
      default: return safeNumber(v.getBigInt64(at, true));
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

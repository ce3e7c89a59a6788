/**
 * Writes GGUF v3 files, the mirror of `reader.ts`: the metadata entries as
 * given (types kept, so keys copied from another file are written back
 * unchanged) and F32 tensors. Only what the tiny test model and the reader's
 * tests need.
 */
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VALUE_SIZE,
  type GgufArray,
  type GgufEntry,
  type GgufScalar,
  type GgufSkippedArray,
  GgufValueType,
} from "./format";

export interface F32Tensor {
  name: string;
  /** Innermost first, as GGUF stores them. */
  dims: number[];
  data: Float32Array;
}

/** `ggml_type` F32: the only tensor type written here. */
const F32 = 0;

/** The whole file, header then aligned tensor data, as parts to hand to `Bun.write`. */
export function encodeGguf(metadata: Record<string, GgufEntry>, tensors: F32Tensor[]): Uint8Array<ArrayBuffer>[] {
  const header = new ByteWriter();
  header.u32(GGUF_MAGIC);
  header.u32(3);
  header.u64(tensors.length);
  header.u64(Object.keys(metadata).length);
  for (const [key, entry] of Object.entries(metadata)) {
    header.string(key);
    header.u32(entry.type);
    header.value(entry.type, entry.value);
  }

  const alignment = Number(metadata["general.alignment"]?.value ?? GGUF_DEFAULT_ALIGNMENT);
  const align = (n: number) => Math.ceil(n / alignment) * alignment;
  let offset = 0;
  for (const tensor of tensors) {
    const elements = tensor.dims.reduce((n, d) => n * d, 1);
    if (elements !== tensor.data.length) throw new Error(`tensor '${tensor.name}' has ${tensor.data.length} values for shape [${tensor.dims}]`);
    header.string(tensor.name);
    header.u32(tensor.dims.length);
    for (const dim of tensor.dims) header.u64(dim);
    header.u32(F32);
    header.u64(offset);
    offset = align(offset + tensor.data.byteLength);
  }

  const parts = [header.bytes()];
  let written = parts[0]!.length;
  const pad = (to: number) => {
    if (to > written) parts.push(new Uint8Array(to - written));
    written = to;
  };
  pad(align(written));
  const dataStart = written;
  for (const tensor of tensors) {
    pad(dataStart + align(written - dataStart));
    parts.push(new Uint8Array(tensor.data.buffer as ArrayBuffer, tensor.data.byteOffset, tensor.data.byteLength));
    written += tensor.data.byteLength;
  }
  return parts;
}

/** Little-endian, growing in chunks: the Qwen2 tokenizer alone is ~300k strings. */
class ByteWriter {
  private chunks: Uint8Array[] = [];
  private current = new Uint8Array(1 << 16);
  private view = new DataView(this.current.buffer);
  private at = 0;
  private readonly encoder = new TextEncoder();

  private room(size: number): void {
    if (this.at + size <= this.current.length) return;
    this.chunks.push(this.current.subarray(0, this.at));
    this.current = new Uint8Array(Math.max(1 << 16, size));
    this.view = new DataView(this.current.buffer);
    this.at = 0;
  }

  u32(n: number): void {
    this.room(4);
    this.view.setUint32(this.at, n, true);
    this.at += 4;
  }

  u64(n: number | bigint): void {
    this.room(8);
    this.view.setBigUint64(this.at, BigInt(n), true);
    this.at += 8;
  }

  string(text: string): void {
    const bytes = this.encoder.encode(text);
    this.u64(bytes.length);
    this.room(bytes.length);
    this.current.set(bytes, this.at);
    this.at += bytes.length;
  }

  value(type: GgufValueType, value: GgufScalar | GgufArray | GgufSkippedArray): void {
    if (type === GgufValueType.STRING) {
      this.string(value as string);
      return;
    }
    if (type === GgufValueType.ARRAY) {
      const array = value as GgufArray | GgufSkippedArray;
      if (!("items" in array)) throw new Error("an array read with skipArrayItems has no items to write");
      // What the reader refuses is not written either.
      if (array.itemType === GgufValueType.ARRAY) throw new Error("a GGUF array cannot hold arrays");
      this.u32(array.itemType);
      this.u64(array.items.length);
      for (const item of array.items) this.value(array.itemType, item);
      return;
    }
    const size = GGUF_VALUE_SIZE[type];
    if (size === undefined) throw new Error(`unknown GGUF value type ${type}`);
    this.room(size);
    const v = this.view;
    const at = this.at;
    this.at += size;
    switch (type) {
      case GgufValueType.UINT8:
        v.setUint8(at, value as number);
        return;
      case GgufValueType.INT8:
        v.setInt8(at, value as number);
        return;
      case GgufValueType.BOOL:
        v.setUint8(at, value ? 1 : 0);
        return;
      case GgufValueType.UINT16:
        v.setUint16(at, value as number, true);
        return;
      case GgufValueType.INT16:
        v.setInt16(at, value as number, true);
        return;
      case GgufValueType.UINT32:
        v.setUint32(at, value as number, true);
        return;
      case GgufValueType.INT32:
        v.setInt32(at, value as number, true);
        return;
      case GgufValueType.FLOAT32:
        v.setFloat32(at, value as number, true);
        return;
      case GgufValueType.FLOAT64:
        v.setFloat64(at, value as number, true);
        return;
      case GgufValueType.UINT64:
        v.setBigUint64(at, BigInt(value as number | bigint), true);
        return;
      default:
        v.setBigInt64(at, BigInt(value as number | bigint), true);
    }
  }

  bytes(): Uint8Array<ArrayBuffer> {
    const all = [...this.chunks, this.current.subarray(0, this.at)];
    const out = new Uint8Array(all.reduce((n, c) => n + c.length, 0));
    let offset = 0;
    for (const chunk of all) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

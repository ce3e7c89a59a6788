import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GGUF_MAGIC, type GgufEntry, GgufValueType } from "../../src/gguf/format";
import { GgufError, type GgufHeader, parseGgufHeader, parseGgufPrefix, readGgufFile, readGgufHeader } from "../../src/gguf/reader";
import { summarizeGguf } from "../../src/gguf/summary";
import { encodeGguf } from "../../src/gguf/writer";
import { qwen2VocabPath, writeTinyGguf } from "../../src/runtimes/llama-cpp/make-tiny-gguf";
import { llamaCppSourceDir } from "../../src/runtimes/llama-cpp/paths";
import { ensureTinyGguf } from "../support/tiny-gguf";

const str = (value: string): GgufEntry => ({ type: GgufValueType.STRING, value });
const u32 = (value: number): GgufEntry => ({ type: GgufValueType.UINT32, value });

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function expectGgufError(fn: () => unknown, code: GgufError["code"], message: RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GgufError);
    expect((error as GgufError).code).toBe(code);
    expect((error as GgufError).message).toMatch(message);
    return;
  }
  throw new Error(`expected a ${code} GgufError`);
}

describe("the tiny random-weight model", () => {
  let path: string;
  let header: GgufHeader;
  beforeAll(async () => {
    path = await ensureTinyGguf();
    header = await readGgufFile(path);
  }, 300_000);

  test("reads as a 2-block, 32-dim llama with the Qwen2 tokenizer and chat template", () => {
    const summary = summarizeGguf(header);
    expect(summary).toEqual({
      version: 3,
      architecture: "llama",
      name: "tiny-random-qwen2",
      contextLength: 2048,
      blockCount: 2,
      embeddingLength: 32,
      headCount: 4,
      headCountKv: 4,
      tokenizerModel: "gpt2",
      vocabSize: 151936,
      hasChatTemplate: true,
      tensorCount: 20,
      // token_embd + output_norm + 2 × (2 norms + 4 attention + 3 feed-forward matrices)
      parameterCount: 151936 * 32 + 32 + 2 * (2 * 32 + 4 * 32 * 32 + 3 * 32 * 64),
      fileType: "F32",
    });
  });

  test("has every tensor llama.cpp loads for llama, output tied to the embedding, data filling the file", () => {
    const names = header.tensors!.map((t) => t.name);
    expect(names).toContain("token_embd.weight");
    expect(names).toContain("blk.1.ffn_down.weight");
    expect(names).not.toContain("output.weight");
    expect(header.tensors!.find((t) => t.name === "token_embd.weight")!.dims).toEqual([32, 151936]);
    const last = header.tensors!.at(-1)!;
    const elements = last.dims.reduce((n, d) => n * d, 1);
    expect(header.dataOffset! + last.offset + 4 * elements).toBe(statSync(path).size);
    expect(String(header.metadata["tokenizer.chat_template"]!.value)).toContain("<|im_start|>");
  });

  test("is read from growing prefixes of the file (1, 4, 16 MiB), not the whole 25 MB", async () => {
    const file = Bun.file(path);
    const reads: number[] = [];
    const again = await readGgufHeader(async (length) => {
      reads.push(length);
      return new Uint8Array(await file.slice(0, length).arrayBuffer());
    });
    expect(again.tensors).toHaveLength(20);
    expect(reads).toEqual([1 << 20, 4 << 20, 16 << 20]);
  });

  test("with skipArrayItems, arrays keep their length only and the rest is the same", async () => {
    const file = Bun.file(path);
    const skipped = await readGgufHeader(async (length) => new Uint8Array(await file.slice(0, length).arrayBuffer()), { skipArrayItems: true });
    expect(skipped.metadata["tokenizer.ggml.tokens"]!.value).toEqual({ itemType: GgufValueType.STRING, length: 151936 });
    expect(skipped.metadata["llama.block_count"]).toEqual(header.metadata["llama.block_count"]!);
    expect(skipped.tensors).toEqual(header.tensors!);
    expect(skipped.dataOffset).toBe(header.dataOffset!);
  });

  test("the same seed writes the same bytes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qdz-gguf-"));
    try {
      const again = join(dir, "again.gguf");
      await writeTinyGguf({ vocabPath: qwen2VocabPath(llamaCppSourceDir()), outPath: again, seed: 1 });
      const hash = async (p: string) => new Bun.CryptoHasher("sha256").update(await Bun.file(p).arrayBuffer()).digest("hex");
      expect(await hash(again)).toBe(await hash(path));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a file cut inside its metadata is refused as truncated", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qdz-gguf-"));
    try {
      const cut = join(dir, "cut.gguf");
      writeFileSync(cut, new Uint8Array(await Bun.file(path).slice(0, 300_000).arrayBuffer()));
      const error = await readGgufFile(cut).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GgufError);
      expect((error as GgufError).code).toBe("TRUNCATED");
      expect((error as GgufError).message).toMatch(/ends at byte 300000, inside the array 'tokenizer\.ggml\.tokens'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("hand-made headers", () => {
  /** Magic, version 3, no tensors, one key: `general.architecture = "llama"`. */
  function minimalHeader(): Uint8Array {
    const key = new TextEncoder().encode("general.architecture");
    const value = new TextEncoder().encode("llama");
    const bytes = new Uint8Array(4 + 4 + 8 + 8 + 8 + key.length + 4 + 8 + value.length);
    const view = new DataView(bytes.buffer);
    let at = 0;
    view.setUint32(at, GGUF_MAGIC, true), (at += 4);
    view.setUint32(at, 3, true), (at += 4);
    view.setBigUint64(at, 0n, true), (at += 8);
    view.setBigUint64(at, 1n, true), (at += 8);
    view.setBigUint64(at, BigInt(key.length), true), (at += 8);
    bytes.set(key, at), (at += key.length);
    view.setUint32(at, GgufValueType.STRING, true), (at += 4);
    view.setBigUint64(at, BigInt(value.length), true), (at += 8);
    bytes.set(value, at);
    return bytes;
  }

  test("a minimal header byte by byte", () => {
    const header = parseGgufHeader(minimalHeader());
    expect(header).toMatchObject({ version: 3, tensorCount: 0, tensors: [] });
    expect(header.metadata["general.architecture"]).toEqual(str("llama"));
    expect(summarizeGguf(header)).toMatchObject({ architecture: "llama", parameterCount: 0, fileType: null, hasChatTemplate: false });
  });

  test("wrong magic", () => {
    const bytes = minimalHeader();
    bytes.set(new TextEncoder().encode("PK\x03\x04"), 0);
    expectGgufError(() => parseGgufHeader(bytes), "BAD_MAGIC", /not a GGUF file/);
  });

  test("an empty or cut buffer is truncated, at every length", () => {
    const bytes = minimalHeader();
    expectGgufError(() => parseGgufHeader(new Uint8Array()), "TRUNCATED", /ends at byte 0, inside the magic bytes/);
    for (let length = 1; length < bytes.length; length++) {
      expectGgufError(() => parseGgufHeader(bytes.subarray(0, length)), "TRUNCATED", new RegExp(`ends at byte ${length}`));
    }
  });

  test("version 1 is refused", () => {
    const bytes = minimalHeader();
    new DataView(bytes.buffer).setUint32(4, 1, true);
    expectGgufError(() => parseGgufHeader(bytes), "UNSUPPORTED_VERSION", /version 1 is not supported/);
  });

  test("an absurd array length fails before allocating", () => {
    const bytes = concat(encodeGguf({ "x.tokens": { type: GgufValueType.ARRAY, value: { itemType: GgufValueType.UINT32, items: [1, 2] } } }, []));
    // The array's length field follows magic, version, counts, key and types.
    const lengthAt = 4 + 4 + 8 + 8 + 8 + "x.tokens".length + 4 + 4;
    new DataView(bytes.buffer).setBigUint64(lengthAt, 1n << 40n, true);
    expectGgufError(() => parseGgufHeader(bytes), "TRUNCATED", /inside the array 'x\.tokens'/);
  });

  test("an unknown value type is malformed", () => {
    const bytes = minimalHeader();
    const typeAt = 4 + 4 + 8 + 8 + 8 + "general.architecture".length;
    new DataView(bytes.buffer).setUint32(typeAt, 99, true);
    expectGgufError(() => parseGgufHeader(bytes), "MALFORMED", /unknown value type 99/);
  });

  test("metadata complete but the tensor table cut: no tensors from a prefix, an error at the end of the file", async () => {
    const bytes = concat(encodeGguf({ "general.architecture": str("llama") }, [{ name: "token_embd.weight", dims: [2, 3], data: new Float32Array(6) }]));
    const cut = bytes.subarray(0, bytes.length - 6 * 4 - 10);
    expect(parseGgufHeader(cut).tensors).toBeNull();
    expect(summarizeGguf(parseGgufHeader(cut)).parameterCount).toBeNull();
    const error = await readGgufHeader(async (length) => cut.subarray(0, length)).catch((e: unknown) => e);
    expect((error as GgufError).code).toBe("TRUNCATED");
  });

  test("every value type survives a write and a read", () => {
    const metadata: Record<string, GgufEntry> = {
      "general.architecture": str("qwen2"),
      u8: { type: GgufValueType.UINT8, value: 255 },
      i8: { type: GgufValueType.INT8, value: -128 },
      u16: { type: GgufValueType.UINT16, value: 65535 },
      i16: { type: GgufValueType.INT16, value: -32768 },
      u32: u32(4_000_000_000),
      i32: { type: GgufValueType.INT32, value: -2_000_000_000 },
      f32: { type: GgufValueType.FLOAT32, value: 0.5 },
      bool: { type: GgufValueType.BOOL, value: true },
      u64: { type: GgufValueType.UINT64, value: 2 ** 40 },
      big: { type: GgufValueType.UINT64, value: 2n ** 63n },
      i64: { type: GgufValueType.INT64, value: -(2 ** 40) },
      f64: { type: GgufValueType.FLOAT64, value: Math.PI },
      unicode: str("Ġ ĠĠ 你好 <|im_start|>"),
      strings: { type: GgufValueType.ARRAY, value: { itemType: GgufValueType.STRING, items: ["a", "", "Ġb"] } },
      int64s: { type: GgufValueType.ARRAY, value: { itemType: GgufValueType.INT64, items: [1, -1, -(2n ** 63n)] } },
      empty: { type: GgufValueType.ARRAY, value: { itemType: GgufValueType.FLOAT32, items: [] } },
    };
    expect(parseGgufHeader(concat(encodeGguf(metadata, []))).metadata).toEqual(metadata);
  });

  test("an array of arrays is refused, as llama.cpp refuses it; the writer will not write one", () => {
    const nested: GgufEntry = { type: GgufValueType.ARRAY, value: { itemType: GgufValueType.ARRAY, items: [] } };
    expect(() => encodeGguf({ nested }, [])).toThrow(/cannot hold arrays/);
    const bytes = concat(encodeGguf({ "x.nested": { type: GgufValueType.ARRAY, value: { itemType: GgufValueType.INT32, items: [] } } }, []));
    const itemTypeAt = 4 + 4 + 8 + 8 + 8 + "x.nested".length + 4;
    new DataView(bytes.buffer).setUint32(itemTypeAt, GgufValueType.ARRAY, true);
    expectGgufError(() => parseGgufHeader(bytes), "MALFORMED", /the array 'x\.nested' holds arrays/);
    new DataView(bytes.buffer).setUint32(itemTypeAt, 99, true);
    expectGgufError(() => parseGgufHeader(bytes), "MALFORMED", /the array 'x\.nested' has an unknown item type 99/);
  });

  test("a length beyond 2^53 is malformed, a string longer than the bytes truncated, whether items are read or skipped", () => {
    const bytes = concat(encodeGguf({ "x.tokens": { type: GgufValueType.ARRAY, value: { itemType: GgufValueType.STRING, items: ["ab"] } } }, []));
    const view = new DataView(bytes.buffer);
    const arrayLengthAt = 4 + 4 + 8 + 8 + 8 + "x.tokens".length + 4 + 4;
    for (const skipArrayItems of [false, true]) {
      view.setBigUint64(arrayLengthAt, 1n, true);
      view.setBigUint64(arrayLengthAt + 8, 1n << 62n, true); // the one string's length
      expectGgufError(() => parseGgufHeader(bytes, { skipArrayItems }), "MALFORMED", /a string's length \(4611686018427387904\) is impossibly large/);
      view.setBigUint64(arrayLengthAt + 8, 1000n, true); // past the end, alignment padding included
      expectGgufError(() => parseGgufHeader(bytes, { skipArrayItems }), "TRUNCATED", /inside a string/);
      view.setBigUint64(arrayLengthAt + 8, 2n, true);
      view.setBigUint64(arrayLengthAt, 1n << 40n, true);
      expectGgufError(() => parseGgufHeader(bytes, { skipArrayItems }), "TRUNCATED", /inside the array 'x\.tokens'/);
    }
  });

  test("an alignment that is not a power of two is malformed", () => {
    const bytes = concat(encodeGguf({ "general.alignment": u32(24) }, [{ name: "a", dims: [1], data: new Float32Array(1) }]));
    expectGgufError(() => parseGgufHeader(bytes), "MALFORMED", /general\.alignment \(24\) is not a power of two/);
  });

  test("per-layer head counts count as their largest; the quantisation falls back to the commonest matrix type", () => {
    const header = parseGgufHeader(
      concat(
        encodeGguf(
          {
            "general.architecture": str("openelm"),
            "openelm.attention.head_count": { type: GgufValueType.ARRAY, value: { itemType: GgufValueType.INT32, items: [12, 16, 20] } },
            "openelm.context_length": u32(4096),
          },
          [
            { name: "a.weight", dims: [2, 2], data: new Float32Array(4) },
            { name: "a.bias", dims: [2], data: new Float32Array(2) },
          ],
        ),
      ),
    );
    expect(summarizeGguf(header)).toMatchObject({ headCount: 20, contextLength: 4096, parameterCount: 6, fileType: "F32", name: null });
  });

  test("a file with no architecture is malformed", () => {
    const header = parseGgufHeader(concat(encodeGguf({ "general.name": str("x") }, [])));
    expectGgufError(() => summarizeGguf(header), "MALFORMED", /no general\.architecture/);
  });
});

describe("prefixes", () => {
  const llama: Record<string, GgufEntry> = {
    "general.architecture": str("llama"),
    "llama.block_count": u32(2),
    "llama.embedding_length": u32(32),
  };
  /** The llama keys, then a tokenizer of `count` tokens (19 bytes each, so 60k make a MiB). */
  const withTokens = (count: number) =>
    concat(
      encodeGguf(
        {
          ...llama,
          "tokenizer.ggml.tokens": {
            type: GgufValueType.ARRAY,
            value: { itemType: GgufValueType.STRING, items: Array.from({ length: count }, (_, i) => `token-${i}`.padEnd(11)) },
          },
        },
        [],
      ),
    );

  test("a prefix gives the key/values read whole so far and says where it was cut", () => {
    const bytes = withTokens(1000);
    const cut = parseGgufPrefix(bytes.subarray(0, bytes.length - 100));
    expect(cut.metadataComplete).toBe(false);
    expect(cut.metadata["llama.block_count"]).toEqual(u32(2));
    expect(cut.metadata["tokenizer.ggml.tokens"]).toBeUndefined(); // a cut array is absent, never short
    expect(cut.cut).toBeInstanceOf(GgufError);
    expect(cut.cut!.message).toMatch(new RegExp(`ends at byte ${bytes.length - 100}, inside a string`));

    const whole = parseGgufPrefix(bytes);
    expect(whole).toMatchObject({ metadataComplete: true, cut: null, tensors: [], version: 3 });
    expect(parseGgufPrefix(bytes.subarray(0, 10))).toMatchObject({ metadataComplete: false, version: 3, metadata: {} });
  });

  test("every prefix parses without throwing, and its keys only grow", () => {
    const bytes = concat(
      encodeGguf({ ...llama, "tokenizer.ggml.tokens": { type: GgufValueType.ARRAY, value: { itemType: GgufValueType.STRING, items: ["a", "b"] } } }, []),
    );
    const keys = Object.keys(parseGgufHeader(bytes).metadata);
    let seen = 0;
    for (let length = 0; length <= bytes.length; length++) {
      const read = Object.keys(parseGgufPrefix(bytes.subarray(0, length)).metadata);
      expect(read).toEqual(keys.slice(0, read.length));
      expect(read.length).toBeGreaterThanOrEqual(seen);
      seen = read.length;
    }
    expect(seen).toBe(keys.length);
  });

  test("readGgufHeader asks for more while the header is cut, stops when the caller has enough, and gives up at maxBytes", async () => {
    const bytes = withTokens(100_000); // ~1.9 MB
    const reads: number[] = [];
    const reader = async (length: number) => (reads.push(length), bytes.subarray(0, length));
    const tokens = (await readGgufHeader(reader)).metadata["tokenizer.ggml.tokens"]!.value as { items: unknown[] };
    expect(tokens.items).toHaveLength(100_000);
    expect(reads).toEqual([1 << 20, 4 << 20]);

    reads.length = 0;
    const early = await readGgufHeader(reader, { enough: (prefix) => "llama.embedding_length" in prefix.metadata });
    expect(early.cut?.code).toBe("TRUNCATED");
    expect(reads).toEqual([1 << 20]);

    const tooLarge = await readGgufHeader(reader, { maxBytes: 1 << 20 }).catch((e: unknown) => e);
    expect(tooLarge).toMatchObject({ code: "MALFORMED", message: "the GGUF header is larger than 1 MiB" });

    const short = bytes.subarray(0, 1_500_000);
    const ended = await readGgufHeader(async (length) => short.subarray(0, length)).catch((e: unknown) => e);
    expect(ended).toMatchObject({ code: "TRUNCATED", message: expect.stringMatching(/ends at byte 1500000, inside a string/) });
  });
});

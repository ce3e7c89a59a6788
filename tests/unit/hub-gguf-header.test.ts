import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GgufValueType } from "../../src/gguf/format";
import { GgufError, parseGgufHeader, parseGgufPrefix } from "../../src/gguf/reader";
import { HubClient } from "../../src/hub/client";
import { HubBadResponseError } from "../../src/hub/errors";
import { ggufAsConfig, hasShape } from "../../src/hub/gguf-header";
import { ggufBytes } from "../support/fixture-hub";
import { ensureTinyGguf } from "../support/tiny-gguf";

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

const TOKENS = (count: number) => Array.from({ length: count }, (_, i) => `tok${i}`);

// ggufBytes is the fixture hub's own encoder, independent of src/gguf/writer: these cases check the reader against it.
describe("the header as the hub reads it", () => {
  test("reads scalars, passes over arrays, and maps the hyperparameters to config names", () => {
    const header = parseGgufHeader(ggufBytes({ ...LLAMA_KEYS, "tokenizer.ggml.tokens": ["a", "b", "c"], "tokenizer.ggml.add_bos_token": false }), {
      skipArrayItems: true,
    });
    expect(header.version).toBe(3);
    expect(header.metadata["general.name"]!.value).toBe("tiny");
    expect(header.metadata["llama.attention.layer_norm_rms_epsilon"]!.value as number).toBeCloseTo(0.000001, 9);
    expect(header.metadata["tokenizer.ggml.tokens"]!.value).toEqual({ itemType: GgufValueType.STRING, length: 3 });
    expect(header.metadata["tokenizer.ggml.add_bos_token"]!.value).toBe(false);
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
    const bytes = ggufBytes({ ...LLAMA_KEYS, "tokenizer.ggml.tokens": TOKENS(1000) });
    const cut = parseGgufPrefix(bytes.subarray(0, bytes.byteLength - 100), { skipArrayItems: true });
    expect(cut.metadataComplete).toBe(false);
    expect(cut.metadata["llama.block_count"]!.value).toBe(2);
    expect(cut.metadata["tokenizer.ggml.tokens"]).toBeUndefined();
    expect(hasShape(cut)).toBe(false); // the tokenizer has not started yet in what was read

    const tiny = parseGgufPrefix(bytes.subarray(0, 10));
    expect(tiny.metadataComplete).toBe(false);
    expect(ggufAsConfig(tiny.metadata)).toBeUndefined();
  });

  test("reading can stop once the tokenizer keys begin", () => {
    const bytes = ggufBytes({ ...LLAMA_KEYS, "tokenizer.ggml.model": "gpt2", "tokenizer.ggml.tokens": TOKENS(1000) });
    expect(hasShape(parseGgufPrefix(bytes.subarray(0, 600)))).toBe(true);
  });

  test("anything that is not GGUF is refused", () => {
    expect(() => parseGgufPrefix(new TextEncoder().encode("PK\x03\x04 not a gguf file at all"))).toThrow(GgufError);
    const v1 = ggufBytes({});
    new DataView(v1.buffer).setUint32(4, 1, true);
    expect(() => parseGgufPrefix(v1)).toThrow(/version 1/);
  });
});

describe("HubClient.ggufHeader: growing range reads", () => {
  let tiny: Blob;
  const files: Record<string, Blob> = {
    // The tokenizer before the hyperparameters (~2 MB of it): 1 MiB is not enough, 4 MiB is.
    "tokenizer-first.gguf": new Blob([ggufBytes({ "tokenizer.ggml.tokens": TOKENS(200_000), ...LLAMA_KEYS }, 1 << 20)]),
    "cut.gguf": new Blob([ggufBytes({ ...LLAMA_KEYS, "tokenizer.ggml.tokens": TOKENS(1000) }).subarray(0, 500)]),
    "README.md": new Blob(["# not a model\n"]),
  };
  const served: { range: string; file: string }[] = [];
  let honourRange = true;
  /** Each response body in chunks of this many bytes, as a slow CDN would send it. */
  let chunkSize = 0;
  let server: ReturnType<typeof Bun.serve>;
  let hub: HubClient;

  beforeAll(async () => {
    tiny = Bun.file(await ensureTinyGguf());
    server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(request) {
        const file = decodeURIComponent(new URL(request.url).pathname.split("/").at(-1)!);
        const blob = file === "tiny.gguf" ? tiny : files[file];
        if (!blob) return new Response("no such file", { status: 404 });
        served.push({ file, range: request.headers.get("range") ?? "" });
        const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.get("range") ?? "");
        const [start, end] = honourRange && range ? [Number(range[1]), Math.min(Number(range[2]), blob.size - 1)] : [0, blob.size - 1];
        const bytes = new Uint8Array(await blob.slice(start, end + 1).arrayBuffer());
        const body = chunkSize
          ? new ReadableStream<Uint8Array>({
              start(controller) {
                for (let at = 0; at < bytes.length; at += chunkSize) controller.enqueue(bytes.slice(at, at + chunkSize));
                controller.close();
              },
            })
          : bytes;
        const partial = honourRange && range;
        return new Response(body, partial ? { status: 206, headers: { "content-range": `bytes ${start}-${end}/${blob.size}` } } : {});
      },
    });
    hub = new HubClient({ endpoint: `http://127.0.0.1:${server.port}` });
  }, 300_000);

  afterAll(() => server.stop(true));

  test("the tiny model: one 1 MiB range, whether the server honours Range or sends the whole file", async () => {
    for (const honour of [true, false]) {
      honourRange = honour;
      served.length = 0;
      const header = await hub.ggufHeader("qdivzero/tiny", "tiny.gguf");
      expect(ggufAsConfig(header.metadata)).toEqual({
        model_type: "llama",
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: 4,
        hidden_size: 32,
        head_dim: 8,
        max_position_embeddings: 2048,
      });
      expect(header.metadataComplete).toBe(false); // the tokenizer had begun: the rest is not needed
      expect(served).toEqual([{ file: "tiny.gguf", range: "bytes=0-1048575" }]);
    }
    honourRange = true;
  });

  test("a header that needs more is read again with a 4× range, assembled from small chunks", async () => {
    served.length = 0;
    chunkSize = 1000;
    try {
      const header = await hub.ggufHeader("qdivzero/tiny", "tokenizer-first.gguf");
      expect(ggufAsConfig(header.metadata)).toMatchObject({ model_type: "llama", num_hidden_layers: 2, num_key_value_heads: 2 });
      expect(header.metadata["tokenizer.ggml.tokens"]!.value).toEqual({ itemType: GgufValueType.STRING, length: 200_000 });
    } finally {
      chunkSize = 0;
    }
    expect(served.map((s) => s.range)).toEqual(["bytes=0-1048575", "bytes=0-4194303"]);
  });

  test("a file that is not GGUF, or ends inside its header, is a bad response saying why", async () => {
    const readme = await hub.ggufHeader("qdivzero/tiny", "README.md").catch((e: unknown) => e);
    expect(readme).toBeInstanceOf(HubBadResponseError);
    expect((readme as Error).message).toBe("README.md in qdivzero/tiny is not a readable GGUF file: not a GGUF file: it does not start with the bytes 'GGUF'.");
    expect((readme as Error).cause).toMatchObject({ code: "BAD_MAGIC" });

    const cut = await hub.ggufHeader("qdivzero/tiny", "cut.gguf").catch((e: unknown) => e);
    expect(cut).toBeInstanceOf(HubBadResponseError);
    expect((cut as Error).message).toMatch(/^cut\.gguf in qdivzero\/tiny is not a readable GGUF file: the GGUF data ends at byte 500, inside/);
  });
});

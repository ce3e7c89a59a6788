import { describe, expect, test } from "bun:test";
import { createEmbeddings, decodeBase64, embeddingItems, embeddingVector, encodeBase64, imageContent } from "../../pods/reference-runtime/embeddings";
import { RuntimeError } from "../../pods/reference-runtime/errors";
import { digest } from "../../pods/reference-runtime/hash";
import { embeddingRequest } from "../../pods/reference-runtime/schemas";

const ctx = { servedModelName: "embedder", embeddingDimensions: 384, maxModelLen: 64 };
const embed = (body: Record<string, unknown>) => createEmbeddings(embeddingRequest.parse({ model: "embedder", ...body }), ctx);
const norm = (vector: number[]) => Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
const pngBytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 255]);
const pngDataUrl = `data:image/png;base64,${Buffer.from(pngBytes).toString("base64")}`;

describe("embeddingVector", () => {
  test("is unit length, of the asked dimension, and fixed by its key", () => {
    const vector = embeddingVector(digest("hello"), 384);
    expect(vector).toHaveLength(384);
    expect(norm(vector)).toBeCloseTo(1, 5);
    expect(embeddingVector(digest("hello"), 384)).toEqual(vector);
    expect(embeddingVector(digest("hello!"), 384)).not.toEqual(vector);
    expect(embeddingVector(digest("odd"), 7)).toHaveLength(7);
  });

  test("a shorter dimension is the longer vector's start, renormalised", () => {
    const full = embeddingVector(digest("x"), 384);
    const short = embeddingVector(digest("x"), 384, 64);
    expect(short).toHaveLength(64);
    expect(norm(short)).toBeCloseTo(1, 5);
    const scale = short[0]! / full[0]!;
    for (let i = 0; i < 64; i++) expect(short[i]!).toBeCloseTo(full[i]! * scale, 5);
  });

  test("values are float32, so base64 round-trips exactly", () => {
    const vector = embeddingVector(digest("exact"), 16);
    expect(decodeBase64(encodeBase64(vector))).toEqual(vector);
    // Little-endian, as OpenAI encodes.
    expect(Buffer.from(encodeBase64([1]), "base64")).toEqual(Buffer.from([0, 0, 0x80, 0x3f]));
  });
});

describe("embeddingItems", () => {
  test("one item per string, per token list, per list of parts", () => {
    expect(embeddingItems("a b")).toHaveLength(1);
    expect(embeddingItems(["a", "b", "c"])).toHaveLength(3);
    expect(embeddingItems([1, 2, 3])).toEqual([{ key: expect.any(Uint8Array), tokens: 3 }]);
    expect(embeddingItems([[1], [2, 3]]).map((item) => item.tokens)).toEqual([1, 2]);
    expect(
      embeddingItems([
        { type: "text", text: "a" },
        { type: "image_url", image_url: { url: pngDataUrl } },
      ]),
    ).toHaveLength(1);
    expect(embeddingItems([[{ type: "text", text: "a" }], [{ type: "text", text: "b" }]])).toHaveLength(2);
  });

  test("a string embeds like a single text part; order and content of parts matter", () => {
    const [text] = embeddingItems("sunset over the sea");
    const [part] = embeddingItems([{ type: "text", text: "sunset over the sea" }]);
    expect(part!.key).toEqual(text!.key);
    const a = embeddingItems([
      { type: "text", text: "a" },
      { type: "text", text: "b" },
    ])[0]!.key;
    const b = embeddingItems([
      { type: "text", text: "b" },
      { type: "text", text: "a" },
    ])[0]!.key;
    expect(a).not.toEqual(b);
  });

  test("counts tokens of text and one per image", () => {
    expect(
      embeddingItems([
        { type: "text", text: "two words" },
        { type: "image_url", image_url: "https://example.com/x.png" },
      ])[0]!.tokens,
    ).toBe(3);
  });

  test("other part types are a 400", () => {
    expect(() => embeddingItems([{ type: "input_audio" }])).toThrow(RuntimeError);
  });
});

describe("imageContent", () => {
  test("hashes a data: URL's bytes, however they are encoded", () => {
    expect(imageContent(pngDataUrl, "p")).toEqual(pngBytes);
    const text = imageContent("data:text/plain,hello%20world", "p");
    expect(new TextDecoder().decode(text)).toBe("hello world");
    expect(imageContent("data:text/plain;base64,aGVsbG8gd29ybGQ=", "p")).toEqual(text);
  });

  test("takes an http(s) URL's text without fetching it", () => {
    expect(new TextDecoder().decode(imageContent("https://example.com/cat.png", "p"))).toBe("https://example.com/cat.png");
  });

  test("refuses other schemes and broken data: URLs with a 400 naming the part", () => {
    for (const url of ["file:///etc/passwd", "ftp://x/y", "data:image/png;base64,***", "data:text/plain,%E0%A4%A", "cat.png"]) {
      try {
        imageContent(url, "input[0].image_url");
        throw new Error(`accepted ${url}`);
      } catch (error) {
        expect(error).toBeInstanceOf(RuntimeError);
        expect((error as RuntimeError).status).toBe(400);
        expect((error as RuntimeError).param).toBe("input[0].image_url");
      }
    }
  });
});

describe("createEmbeddings", () => {
  test("answers OpenAI's shape with usage", () => {
    const out = embed({ input: ["one two", "three"] });
    expect(out.object).toBe("list");
    expect(out.model).toBe("embedder");
    expect(out.data.map((item) => item.index)).toEqual([0, 1]);
    expect(out.data.every((item) => item.object === "embedding" && (item.embedding as number[]).length === 384)).toBe(true);
    expect(out.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
  });

  test("the same text gives the same vector, in any request", () => {
    const alone = embed({ input: "three" }).data[0]!.embedding;
    expect(embed({ input: ["one two", "three"] }).data[1]!.embedding).toEqual(alone);
  });

  test("dimensions up to the maximum; beyond is a 400", () => {
    expect(embed({ input: "x", dimensions: 8 }).data[0]!.embedding).toHaveLength(8);
    expect(() => embed({ input: "x", dimensions: 385 })).toThrow("at most 384");
  });

  test("base64 encodes the same float32 values", () => {
    const floats = embed({ input: "x" }).data[0]!.embedding as number[];
    const encoded = embed({ input: "x", encoding_format: "base64" }).data[0]!.embedding as string;
    expect(decodeBase64(encoded)).toEqual(floats);
  });

  test("an input longer than the context is a 400", () => {
    expect(() => embed({ input: "word ".repeat(65) })).toThrow("maximum context length");
  });
});

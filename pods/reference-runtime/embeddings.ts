import { badRequest } from "./errors";
import { digest, rngFrom } from "./hash";
import type { ContentPart, EmbeddingInput, EmbeddingRequest } from "./schemas";
import { countTokens } from "./text";

/** One thing to embed: the digest of its content and its size in tokens. */
export interface EmbeddingItem {
  key: Uint8Array;
  tokens: number;
}

/**
 * What `input` embeds, one vector per item:
 * - a string: one; a list of strings: one each;
 * - a list of token ids: one; a list of such lists: one each;
 * - a list of parts (`{type:"text",text}` / `{type:"image_url",image_url:{url}}`):
 *   ONE vector for the whole list, as a multimodal document; a list of such
 *   lists: one each.
 * A string embeds exactly like a list holding one text part with that string.
 * Image URLs are never fetched: a `data:` URL's bytes are hashed, an http(s)
 * URL's text is (the platform's proxy inlines public images as data: URLs).
 */
export function embeddingItems(input: EmbeddingInput): EmbeddingItem[] {
  if (typeof input === "string") return [partsItem([{ type: "text", text: input }], "input")];
  const first = input[0];
  if (typeof first === "string") return (input as string[]).map((text, i) => partsItem([{ type: "text", text }], `input[${i}]`));
  if (typeof first === "number") return [tokenItem(input as number[])];
  if (Array.isArray(first) && typeof first[0] === "number") return (input as number[][]).map(tokenItem);
  if (Array.isArray(first)) return (input as ContentPart[][]).map((parts, i) => partsItem(parts, `input[${i}]`));
  return [partsItem(input as ContentPart[], "input")];
}

function tokenItem(ids: number[]): EmbeddingItem {
  return { key: digest("tokens", ids.join(",")), tokens: ids.length };
}

function partsItem(parts: readonly ContentPart[], param: string): EmbeddingItem {
  const pieces: (string | Uint8Array)[] = ["parts"];
  let tokens = 0;
  for (const [i, part] of parts.entries()) {
    if (part.type === "text") {
      pieces.push("text", part.text);
      tokens += countTokens(part.text);
    } else if (part.type === "image_url") {
      const url = typeof part.image_url === "string" ? part.image_url : part.image_url.url;
      pieces.push("image", imageContent(url, `${param}[${i}].image_url`));
      // An image counts as one token: the runtime has no vision encoder to count patches with.
      tokens += 1;
    } else {
      throw badRequest(`Embedding input parts must be 'text' or 'image_url', not '${part.type}'.`, `${param}[${i}].type`);
    }
  }
  return { key: digest(...pieces), tokens };
}

/** The bytes a `data:` URL holds, or an http(s) URL's text; other schemes are refused. */
export function imageContent(url: string, param: string): Uint8Array {
  if (/^https?:\/\//i.test(url)) return new TextEncoder().encode(url);
  const match = /^data:([^,]*),(.*)$/is.exec(url);
  if (!match) throw badRequest("Image URLs must be data: URLs or http(s) URLs.", param);
  const [, header = "", payload = ""] = match;
  if (/;base64$/i.test(header)) {
    const compact = payload.replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact)) throw badRequest("The image's data: URL is not valid base64.", param);
    return new Uint8Array(Buffer.from(compact, "base64"));
  }
  try {
    return new TextEncoder().encode(decodeURIComponent(payload));
  } catch {
    throw badRequest("The image's data: URL is not valid percent-encoding.", param);
  }
}

/**
 * A unit-length vector from a digest: `maxDimensions` normal values from the
 * digest's PRNG, cut to `dimensions` and renormalised (as Matryoshka models
 * shorten theirs), and rounded to float32 so float and base64 answers agree.
 */
export function embeddingVector(key: Uint8Array, maxDimensions: number, dimensions = maxDimensions): number[] {
  const rng = rngFrom(key);
  const values: number[] = [];
  for (let i = 0; i < maxDimensions; i += 2) {
    // Box–Muller: two normal values from two uniform ones; 1 - u keeps log() away from 0.
    const radius = Math.sqrt(-2 * Math.log(1 - rng.next()));
    const angle = 2 * Math.PI * rng.next();
    values.push(radius * Math.cos(angle), radius * Math.sin(angle));
  }
  const kept = values.slice(0, dimensions);
  const norm = Math.sqrt(kept.reduce((sum, value) => sum + value * value, 0)) || 1;
  return kept.map((value) => Math.fround(value / norm));
}

/** Little-endian float32, base64-encoded: OpenAI's `encoding_format: "base64"`. */
export function encodeBase64(vector: readonly number[]): string {
  const view = new DataView(new ArrayBuffer(vector.length * 4));
  for (const [i, value] of vector.entries()) view.setFloat32(i * 4, value, true);
  return Buffer.from(view.buffer).toString("base64");
}

export function decodeBase64(encoded: string): number[] {
  const bytes = Buffer.from(encoded, "base64");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

export interface EmbeddingContext {
  servedModelName: string;
  embeddingDimensions: number;
  maxModelLen: number;
}

/** OpenAI's CreateEmbeddingResponse for a validated request. */
export function createEmbeddings(request: EmbeddingRequest, ctx: EmbeddingContext) {
  const dimensions = request.dimensions ?? ctx.embeddingDimensions;
  if (dimensions > ctx.embeddingDimensions) {
    throw badRequest(`'dimensions' must be at most ${ctx.embeddingDimensions} for this model.`, "dimensions");
  }
  const items = embeddingItems(request.input);
  for (const [i, item] of items.entries()) {
    if (item.tokens > ctx.maxModelLen) {
      throw badRequest(`Input ${i} has ${item.tokens} tokens; this model's maximum context length is ${ctx.maxModelLen}.`, "input", "context_length_exceeded");
    }
  }
  const promptTokens = items.reduce((sum, item) => sum + item.tokens, 0);
  return {
    object: "list" as const,
    model: ctx.servedModelName,
    data: items.map((item, index) => {
      const vector = embeddingVector(item.key, ctx.embeddingDimensions, dimensions);
      return { object: "embedding" as const, index, embedding: request.encoding_format === "base64" ? encodeBase64(vector) : vector };
    }),
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

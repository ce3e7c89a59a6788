import { bodyTooLarge, invalidBody } from "./errors";

/**
 * The request body as bytes, refusing more than `limitBytes`: by
 * Content-Length before reading anything, and by counting while reading
 * when there is none (chunked).
 */
export async function readBody(request: Request, limitBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared.trim())) {
    if (Number(declared) > limitBytes) throw bodyTooLarge(limitBytes);
    // The common case, read natively (a JS stream reader here costs ~20 µs a request): Bun's HTTP parser
    // frames the body by Content-Length, so only a Request built in-process could carry more than declared.
    const bytes = (await request.bytes()) as Uint8Array<ArrayBuffer>;
    if (bytes.byteLength > limitBytes) throw bodyTooLarge(limitBytes);
    return bytes;
  }
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  const reader = request.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limitBytes) {
        void reader.cancel().catch(() => {});
        throw bodyTooLarge(limitBytes);
      }
      chunks.push(value as Uint8Array<ArrayBuffer>);
    }
  } finally {
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A /v1 request body that is a JSON object with a `model`: parsed once, for routing and for the firewall. */
export interface ProxyBody {
  /** What the client sent, forwarded byte for byte unless an image is inlined or a firewall redacts. */
  bytes: Uint8Array<ArrayBuffer>;
  json: Record<string, unknown>;
  model: string;
}

/**
 * The body parsed and its `model` checked. Only `model` is judged here: the
 * rest is the runtime's to judge, and the bytes are forwarded as received.
 */
export function parseProxyBody(bytes: Uint8Array<ArrayBuffer>): ProxyBody {
  if (bytes.byteLength === 0) throw invalidBody("The request body is empty; send a JSON object with at least 'model'.");
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    throw invalidBody("The request body is not valid JSON (UTF-8 encoded).", null, "invalid_json");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalidBody("The request body must be a JSON object.");
  const model = (value as { model?: unknown }).model;
  if (model === undefined) throw invalidBody("'model' is required: the serving name of one of your running instances.", "model", "missing_required_parameter");
  if (typeof model !== "string" || model.length === 0) throw invalidBody("'model' must be a non-empty string: the serving name of one of your running instances.", "model", "invalid_type");
  return { bytes, json: value as Record<string, unknown>, model };
}

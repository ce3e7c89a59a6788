import { BodyTooLargeError, readBodyWithin } from "../request-body";
import { bodyTooLarge, invalidBody } from "./errors";

/** The request body as bytes through the shared capped reader, its refusal in OpenAI's shape. */
export async function readBody(request: Request, limitBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  try {
    return await readBodyWithin(request, limitBytes);
  } catch (error) {
    throw error instanceof BodyTooLargeError ? bodyTooLarge(limitBytes) : error;
  }
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
  if (typeof model !== "string" || model.length === 0)
    throw invalidBody("'model' must be a non-empty string: the serving name of one of your running instances.", "model", "invalid_type");
  return { bytes, json: value as Record<string, unknown>, model };
}

import { log } from "../platform/log";

/**
 * The /v1 proxy's errors, already in OpenAI's vocabulary: each carries the
 * HTTP status, OpenAI's `type`, a machine `code` and the offending `param`,
 * because OpenAI SDKs pick their exception class from the status and show
 * the message as is.
 */
export type OpenAIErrorType = "invalid_request_error" | "api_error" | "server_error" | "rate_limit_error";

export class ProxyError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: OpenAIErrorType,
    readonly code: string | null,
    readonly param: string | null = null,
    /** Extra answer headers: `Retry-After`, `WWW-Authenticate`. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ProxyError";
  }
}

export const invalidApiKey = (message: string) =>
  new ProxyError(401, message, "invalid_request_error", "invalid_api_key", null, { "www-authenticate": "Bearer" });

export const invalidBody = (message: string, param: string | null = null, code: string | null = "invalid_request_body") =>
  new ProxyError(400, message, "invalid_request_error", code, param);

export const bodyTooLarge = (limitBytes: number) =>
  new ProxyError(413, `The request body is larger than the ${limitBytes} bytes this endpoint accepts.`, "invalid_request_error", "request_too_large");

/** Also what another account's serving name answers, so names from elsewhere reveal nothing. */
export const modelNotFound = (model: string) =>
  new ProxyError(
    404,
    `The model '${model}' does not exist or you do not have access to it. GET /v1/models lists your running instances' serving names.`,
    "invalid_request_error",
    "model_not_found",
    "model",
  );

export const rateLimited = (limitPerMinute: number, retryAfterSeconds: number) =>
  new ProxyError(
    429,
    `Rate limit reached for this API key: ${limitPerMinute} requests per minute. Try again in ${retryAfterSeconds} s.`,
    "rate_limit_error",
    "rate_limit_exceeded",
    null,
    { "retry-after": String(retryAfterSeconds) },
  );

export const upstreamUnavailable = (servingName: string) =>
  new ProxyError(
    502,
    `The instance serving '${servingName}' did not accept the connection; it may be restarting. Try again shortly.`,
    "api_error",
    "upstream_unavailable",
  );

export const upstreamFailed = (servingName: string) =>
  new ProxyError(502, `The instance serving '${servingName}' broke off the answer.`, "api_error", "upstream_error");

export const upstreamTimeout = (servingName: string, timeoutMs: number) =>
  new ProxyError(
    504,
    `The instance serving '${servingName}' did not start answering within ${Math.round(timeoutMs / 1000)} s.`,
    "api_error",
    "upstream_timeout",
  );

export const endpointNotFound = (path: string) =>
  new ProxyError(
    404,
    `Unknown endpoint ${path}. This proxy serves GET /v1/models, POST /v1/chat/completions, /v1/completions and /v1/embeddings.`,
    "invalid_request_error",
    "unknown_url",
  );

/** The body OpenAI clients parse: `{"error": {message, type, param, code}}`. */
export function openAIErrorBody(error: ProxyError) {
  return { error: { message: error.message, type: error.type, param: error.param, code: error.code } };
}

/**
 * Any thrown value as an OpenAI error answer. Anything that is not a
 * ProxyError is a bug: logged with the request id, answered as a 500 that
 * reveals nothing.
 */
export function errorAnswer(error: unknown, requestId: string, headers: Record<string, string> = {}): Response {
  let known: ProxyError;
  if (error instanceof ProxyError) known = error;
  else {
    log.error({ err: error, requestId }, "/v1: unexpected error");
    known = new ProxyError(500, "Something went wrong on our side.", "server_error", "internal_error");
  }
  return Response.json(openAIErrorBody(known), { status: known.status, headers: { ...headers, ...known.headers, "x-request-id": requestId } });
}

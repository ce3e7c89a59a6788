import { v1UpstreamDuration } from "../platform/metrics";
import { conformChatCompletion, conformError } from "../runtimes/llama-cpp/openai-shape";
import { ProxyError, upstreamFailed, upstreamTimeout, upstreamUnavailable } from "./errors";
import type { Upstream } from "./routing";

export type Endpoint = "chat/completions" | "completions" | "embeddings";

export interface ForwardRequest {
  upstream: Upstream;
  servingName: string;
  endpoint: Endpoint;
  /** The client's body, forwarded byte for byte. */
  body: Uint8Array<ArrayBuffer>;
  accept: string | null;
  /** Aborts when the client goes away: the upstream request goes with it. */
  clientSignal: AbortSignal;
  /** How long the runtime may take to send its response headers. */
  headersTimeoutMs: number;
}

/**
 * Sends the body to the instance's runtime and answers with the runtime's
 * status, content type and body stream, untouched: an SSE stream reaches the
 * client frame by frame as the runtime writes it. Only `content-type` and
 * `accept` go upstream; never the client's Authorization or anything else.
 */
export async function forward(request: ForwardRequest, headers: Record<string, string>): Promise<Response> {
  // One controller for both reasons to give up (cheaper than a timeout signal combined with AbortSignal.any,
  // measurably so per request): the client leaving, at any time, and the runtime's headers being late.
  const upstreamCall = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    upstreamCall.abort();
  }, request.headersTimeoutMs);
  if (request.clientSignal.aborted) upstreamCall.abort();
  else request.clientSignal.addEventListener("abort", () => upstreamCall.abort(), { once: true });
  const send = (keepalive: boolean) =>
    fetch(`${request.upstream.baseUrl}/v1/${request.endpoint}`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: request.accept || "application/json, text/event-stream" },
      body: request.body,
      signal: upstreamCall.signal,
      redirect: "manual",
      keepalive,
    });
  let upstream: Response;
  const sentAt = performance.now();
  try {
    upstream = await send(true).catch((error) => {
      // A pooled connection the runtime had just closed (llama-server does) resets before any answer:
      // once, on a fresh connection, is safe, as the runtime never saw the request.
      if ((error as { code?: unknown })?.code !== "ECONNRESET" || upstreamCall.signal.aborted) throw error;
      return send(false);
    });
  } catch (error) {
    throw fetchFailure(error, request, timedOut);
  } finally {
    clearTimeout(timer);
    v1UpstreamDuration.labels(request.endpoint).observe((performance.now() - sentAt) / 1000);
  }
  const contentType = upstream.headers.get("content-type");
  const answerHeaders: Record<string, string> = { ...headers };
  if (contentType) answerHeaders["content-type"] = contentType;
  if (request.upstream.runtimeId === "llama.cpp" && contentType?.includes("application/json")) {
    return conformLlamaCpp(upstream, request.endpoint, answerHeaders);
  }
  return new Response(upstream.body, { status: upstream.status, headers: answerHeaders });
}

function fetchFailure(error: unknown, request: ForwardRequest, timedOut: boolean): ProxyError {
  if (timedOut) return upstreamTimeout(request.servingName, request.headersTimeoutMs);
  // The client left before the runtime answered: nobody reads this, but it must not look like our failure.
  if (request.clientSignal.aborted) return new ProxyError(499, "The client closed the request.", "invalid_request_error", "client_closed_request");
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ConnectionRefused" || code === "ECONNREFUSED" || code === "FailedToOpenSocket") return upstreamUnavailable(request.servingName);
  return upstreamFailed(request.servingName);
}

/**
 * llama-server's JSON answers miss a few fields OpenAI's schema requires
 * (see openai-shape.ts); they are small and complete, so buffering them to
 * fix the shape costs nothing a client could notice. Streams pass untouched.
 */
async function conformLlamaCpp(upstream: Response, endpoint: Endpoint, headers: Record<string, string>): Promise<Response> {
  let body: unknown;
  try {
    body = await upstream.json();
  } catch {
    throw new ProxyError(502, "The runtime answered with malformed JSON.", "api_error", "upstream_error");
  }
  if (upstream.status >= 400) return Response.json(conformError(body, upstream.status), { status: upstream.status, headers });
  if (endpoint === "chat/completions" && body && typeof body === "object") {
    return Response.json(conformChatCompletion(body as Record<string, unknown>), { status: upstream.status, headers });
  }
  return Response.json(body, { status: upstream.status, headers });
}

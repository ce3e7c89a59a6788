import type { Executor } from "../../db/client";
import type { KeyUsageRecorder } from "../api-keys/authenticate";
import { screenPrompt } from "../firewall/screen";
import { newRequestId } from "../ids";
import { log } from "../platform/log";
import { type V1Endpoint, v1Requests } from "../platform/metrics";
import { parseProxyBody, readBody } from "./body";
import type { ProxyCache } from "./cache";
import { authenticateProxyCall, type ProxyPrincipal } from "./credentials";
import { errorAnswer, ProxyError } from "./errors";
import { FIREWALL_HEADER, firewallPick, REDACTED_HEADER } from "./firewall-choice";
import { type Endpoint, forward } from "./forward";
import { type ImageFetchPolicy, publicImagePolicy } from "./images/fetch-image";
import { inlineImages } from "./images/inline";
import { listModels } from "./models";
import { rateLimitHeaders, refusal, SharedRateLimiter } from "./rate-limit";
import { leaseFromDatabase } from "./rate-limit-buckets";
import { upstreamFor } from "./routing";

export interface ProxySettings {
  maxBodyBytes: number;
  upstreamTimeoutMs: number;
  rateLimitPerMinute: number;
  /** Embeddings images (V1_IMAGE_*); unset takes the images module's defaults. */
  imageMaxBytes?: number;
  imageTimeoutMs?: number;
  imageMaxPerRequest?: number;
}

export interface ProxyDeps {
  db: Executor;
  cache: ProxyCache;
  limiter: SharedRateLimiter;
  keyUsage?: KeyUsageRecorder;
  settings: ProxySettings;
  /** The web app's public URL: cookie-authenticated calls (the playground) must come from its origin. */
  publicUrl?: string;
  /** How embeddings images are fetched: public addresses only, except where a test says otherwise. */
  images: ImageFetchPolicy;
  /** Resolves once the cache listens for invalidations (the first request waits for it). */
  ready?: () => Promise<void>;
}

export { FIREWALL_HEADER } from "./firewall-choice";

export function proxyDeps(input: Omit<ProxyDeps, "limiter" | "images"> & { images?: ImageFetchPolicy }): ProxyDeps {
  const images =
    input.images ??
    publicImagePolicy({ maxBytes: input.settings.imageMaxBytes, timeoutMs: input.settings.imageTimeoutMs, maxPerRequest: input.settings.imageMaxPerRequest });
  const limiter = new SharedRateLimiter(input.settings.rateLimitPerMinute, leaseFromDatabase(input.db), {
    onLeaseError: (error) => log.warn({ err: error }, "rate limit: the shared bucket could not be asked; limiting on this replica alone"),
  });
  return { ...input, images, limiter };
}

/**
 * One /v1 call: authenticate the key (cached) or the playground's session,
 * take a rate-limit token (per key, or per session), then run `serve`. Every answer, error or not, carries `x-request-id` and, once
 * the key is known, the rate-limit headers. No database write per request happens here: rate-limit tokens
 * are leased from the shared bucket a hundredth of the limit at a time, and last-used times go to the
 * batched recorder.
 */
async function admitted(
  deps: ProxyDeps,
  request: Request,
  endpoint: V1Endpoint,
  serve: (principal: ProxyPrincipal, headers: Record<string, string>) => Promise<Response>,
): Promise<Response> {
  const requestId = newRequestId();
  let headers: Record<string, string> = { "x-request-id": requestId };
  try {
    await deps.ready?.();
    const principal = await authenticateProxyCall(request, { db: deps.db, publicUrl: deps.publicUrl, lookupKey: (secret) => deps.cache.principal(secret) });
    const limit = await deps.limiter.take(principal.limiterKey);
    headers = { ...headers, ...rateLimitHeaders(limit) };
    if (!limit.allowed) throw refusal(limit);
    if (principal.keyId) deps.keyUsage?.record(principal.keyId);
    return counted(endpoint, await serve(principal, headers));
  } catch (error) {
    return counted(endpoint, errorAnswer(error, requestId, headers));
  }
}

/** Every /v1 answer, by endpoint and status: the runtime's own, or the proxy's refusal. */
function counted(endpoint: V1Endpoint, response: Response): Response {
  v1Requests.labels(endpoint, String(response.status)).inc();
  return response;
}

/** POST /v1/chat/completions, /v1/completions, /v1/embeddings. */
export function proxyCall(deps: ProxyDeps, request: Request, endpoint: Endpoint): Promise<Response> {
  return admitted(deps, request, endpoint, async (principal, admittedHeaders) => {
    let headers = admittedHeaders;
    // Before the body is read: a refused pick costs nothing more.
    const pick = firewallPick(principal, request.headers.get(FIREWALL_HEADER));
    const received = parseProxyBody(await readBody(request, deps.settings.maxBodyBytes));
    const servingName = received.model;
    const upstream = upstreamFor(await deps.cache.route(principal.accountId, servingName), servingName);
    // After routing, so nobody can make the proxy fetch URLs for a model they cannot reach.
    const inlined = endpoint === "embeddings" ? await inlineImages(received, deps.images) : received;
    // The instance's firewall, or the one the playground picked for this request.
    const screened = await screenPrompt(deps.db, { accountId: principal.accountId, instanceId: upstream.instanceId, pick }, endpoint, inlined.bytes, {
      parsed: inlined.json,
    });
    if (screened.action === "block") throw new ProxyError(400, screened.message, "invalid_request_error", "firewall_blocked");
    if (screened.action === "refuse") throw new ProxyError(403, screened.message, "invalid_request_error", "firewall_pick_refused");
    const body = typeof screened.body === "string" ? new TextEncoder().encode(screened.body) : screened.body;
    if (screened.redacted) headers = { ...headers, [REDACTED_HEADER]: redactedHeader(screened.redacted) };
    return forward(
      {
        upstream,
        servingName,
        endpoint,
        body,
        accept: request.headers.get("accept"),
        clientSignal: request.signal,
        headersTimeoutMs: deps.settings.upstreamTimeoutMs,
      },
      headers,
    );
  });
}

/** Most proxies refuse headers past 8–16 KiB: beyond this, only which fields were redacted, not their text. */
const REDACTED_HEADER_MAX = 8_192;

function redactedHeader(texts: { field: string; text: string }[]): string {
  const full = encodeURIComponent(JSON.stringify(texts));
  return full.length <= REDACTED_HEADER_MAX ? full : encodeURIComponent(JSON.stringify(texts.map(({ field }) => ({ field }))));
}

/** GET /v1/models. */
export function modelsCall(deps: ProxyDeps, request: Request): Promise<Response> {
  return admitted(deps, request, "models", async (principal, headers) => Response.json(await listModels(deps.db, principal.accountId), { headers }));
}

/** Anything else under /v1, still in OpenAI's shape. */
export function unknownCall(_request: Request, error: unknown): Response {
  return counted("unknown", errorAnswer(error, newRequestId()));
}

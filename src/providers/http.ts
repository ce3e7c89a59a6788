/**
 * The HTTP client the cloud adapters share: JSON in and out, a timeout on every call, a bounded answer, and the
 * clouds' rate limits respected (a 429 waits for `Retry-After`, or backs off exponentially, a few times), so an
 * adapter is only its API's paths and shapes.
 */

export interface CloudHttpOptions {
  /** The API's base URL (a test points it at a local server speaking the same API). */
  baseUrl: string;
  /** Sent with every request (authorization). */
  headers?: Record<string, string>;
  /** Per request, retries included in none: each attempt gets this long. */
  timeoutMs?: number;
  /** Retries after a 429 or a network error, before giving up. */
  maxRetries?: number;
  /** The first backoff; doubles each retry, capped at `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** A 429's `Retry-After` is waited in full, up to this; a longer one is not retried (the caller tries elsewhere). */
  maxRetryAfterMs?: number;
  /** Bytes of answer read at most: a cloud that answers without end does not take the worker's memory. */
  maxBodyBytes?: number;
  /** For tests: what waits between retries. */
  sleep?: (ms: number) => Promise<void>;
}

/** A call the API refused or failed: its status and the API's own message when it gave one. */
export class CloudHttpError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly apiMessage: string,
    /** The API's own error code when it gives one (Lambda's `error.code`, Vast's `error`): what adapters match on. */
    readonly apiCode: string | null = null,
  ) {
    super(`${method} ${path}: ${status}${apiMessage ? ` ${apiMessage}` : ""}`);
  }

  /** 5xx, 408, 429 and network failures: the same call may work later. 4xx: it will not. */
  get transient(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

export interface CloudRequest {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
}

export class CloudHttp {
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly maxBodyBytes: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: CloudHttpOptions) {
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.maxRetries = options.maxRetries ?? 3;
    this.backoffMs = options.backoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
    this.sleep = options.sleep ?? ((ms) => Bun.sleep(ms));
  }

  /** The call's JSON answer (null for an empty one); throws CloudHttpError when it fails for good. */
  async request<T>(method: string, path: string, request: CloudRequest = {}): Promise<T> {
    const url = new URL(path.replace(/^\//, ""), this.options.baseUrl.endsWith("/") ? this.options.baseUrl : `${this.options.baseUrl}/`);
    for (const [key, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    for (let attempt = 0; ; attempt++) {
      let failure: CloudHttpError;
      let wait = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** attempt);
      try {
        const response = await fetch(url, {
          method,
          headers: { accept: "application/json", ...(request.body !== undefined ? { "content-type": "application/json" } : {}), ...this.options.headers },
          body: request.body !== undefined ? JSON.stringify(request.body) : undefined,
          signal: AbortSignal.timeout(this.timeoutMs),
          redirect: "error",
        });
        const text = await readCapped(response, this.maxBodyBytes);
        if (response.ok) return (text ? JSON.parse(text) : null) as T;
        const { message, code } = apiError(text);
        failure = new CloudHttpError(response.status, method, path, message, code);
        // Retry-After is the API saying when it will answer: waited in full (sooner only burns a retry), unless too long.
        const retryAfter = Number(response.headers.get("retry-after"));
        if (response.status === 429 && Number.isFinite(retryAfter) && retryAfter >= 0) {
          if (retryAfter * 1000 > this.maxRetryAfterMs) throw failure;
          wait = Math.max(wait, retryAfter * 1000);
        }
      } catch (error) {
        if (error instanceof CloudHttpError) throw error;
        failure = new CloudHttpError(0, method, path, error instanceof Error ? error.message : String(error));
      }
      // Only what may work later is retried, and a call that changes something only after a 429, which the API refused
      // before acting: a POST that timed out may have made its pod (the reconciler finds it by its name).
      const retry = failure.status === 429 || (failure.transient && method === "GET");
      if (!retry || attempt >= this.maxRetries) throw failure;
      await this.sleep(wait);
    }
  }
}

async function readCapped(response: Response, limit: number): Promise<string> {
  const length = Number(response.headers.get("content-length"));
  if (Number.isFinite(length) && length > limit) {
    await response.body?.cancel();
    throw new CloudHttpError(response.status, "", response.url, `answer of ${length} bytes, over the ${limit} read`);
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new CloudHttpError(response.status, "", response.url, `answer over the ${limit} bytes read`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * The API's own words and code from an error body, kept short: `{error: {code, message}}` (Lambda),
 * `{error: "code", msg}` (Vast), `{detail}` (RFC 9457, RunPod), `{message}`, or plain text.
 */
function apiError(text: string): { message: string; code: string | null } {
  let message = text;
  let code: string | null = null;
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown; msg?: unknown; detail?: unknown; title?: unknown };
    const error = body.error as { message?: unknown; code?: unknown } | string | undefined;
    if (typeof error === "object" && error) code = typeof error.code === "string" ? error.code : null;
    else if (typeof error === "string") code = error;
    const words = (typeof error === "object" && error?.message) || body.msg || body.detail || body.message || body.title || error;
    message = typeof words === "string" ? words : text;
  } catch {
    // not JSON: the text itself
  }
  return { message: message.replace(/\s+/g, " ").trim().slice(0, 300), code };
}

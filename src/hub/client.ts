import { GgufError, type GgufPrefix, readGgufHeader } from "../gguf/reader";

export type { HubResponse, LinkedFile } from "./response";

import { type DownloadOptions, type DownloadProgress, type DownloadResult, downloadRepoFile } from "./download";
import { HubBadResponseError, HubError, HubGatedError, HubNotFoundError, HubUnreachableError } from "./errors";
import { hasShape } from "./gguf-header";
import { parseRepoFile, parseRepoId, repoFileUrlPath } from "./repo-id";
import type { HubResponse, LinkedFile } from "./response";
import { type ModelInfo, modelInfoSchema } from "./schemas";

export const DEFAULT_HUB_ENDPOINT = "https://huggingface.co";

export interface HubClientOptions {
  /** The hub's base URL (the `HF_ENDPOINT` setting, read by the caller); default huggingface.co. */
  endpoint?: string;
  /** The user's Hugging Face token, sent as `Authorization: Bearer` to the hub's own origin only. */
  token?: string;
  /** How long an API call may take, and how long a download may go without a byte; default 10 s. */
  timeoutMs?: number;
  /** For tests: another fetch. */
  fetch?: typeof fetch;
}

const MAX_REDIRECTS = 5;

/**
 * A small client for the parts of the Hugging Face hub API a launch needs:
 * model info, a JSON file from a repo, and a file download. Every failure is
 * a `HubError` with a code; repo ids are checked before any request.
 */
export class HubClient {
  readonly endpoint: string;
  readonly hasToken: boolean;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: HubClientOptions = {}) {
    this.endpoint = (options.endpoint || DEFAULT_HUB_ENDPOINT).replace(/\/+$/, "");
    this.#token = options.token || undefined;
    this.hasToken = Boolean(this.#token);
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#fetch = options.fetch ?? fetch;
  }

  /** `GET /api/models/{repo}?blobs=true` (blobs adds each file's size). */
  async modelInfo(repo: string): Promise<ModelInfo> {
    const id = parseRepoId(repo);
    const body = await this.#json(id, `/api/models/${id}?blobs=true`);
    const parsed = modelInfoSchema.safeParse(body);
    if (!parsed.success) {
      throw new HubBadResponseError(`The hub's model info for ${id} has an unexpected shape: ${parsed.error.issues[0]?.message}.`, id);
    }
    return parsed.data;
  }

  /** A JSON file from the repo's main branch, e.g. config.json. */
  async fetchJson(repo: string, file: string): Promise<unknown> {
    const id = parseRepoId(repo);
    return this.#json(id, repoFileUrlPath(id, parseRepoFile(file)), file);
  }

  /**
   * The metadata at the start of a GGUF file, read with `Range` requests that
   * grow (1, 4, 16 MiB…) until the hyperparameters are in, never the weights.
   * A file that is not GGUF, or ends or passes `maxBytes` inside its metadata,
   * is a `HubBadResponseError`.
   */
  async ggufHeader(repo: string, file: string, maxBytes = 64 * 1024 * 1024): Promise<GgufPrefix> {
    const id = parseRepoId(repo);
    const path = repoFileUrlPath(id, parseRepoFile(file));
    let status: number | undefined;
    const readPrefix = async (length: number) => {
      const { response, idle } = await this.get(id, path, { file, headers: { range: `bytes=0-${length - 1}` } });
      status = response.status;
      try {
        return await readUpTo(response, length);
      } catch (error) {
        throw this.unreachable(id, error);
      } finally {
        idle.done();
      }
    };
    try {
      return await readGgufHeader(readPrefix, { enough: hasShape, maxBytes, skipArrayItems: true });
    } catch (error) {
      if (!(error instanceof GgufError)) throw error;
      throw new HubBadResponseError(`${file} in ${id} is not a readable GGUF file: ${error.message}.`, id, status, { cause: error });
    }
  }

  /**
   * Streams a repo file to `destination` (through `destination.part`, renamed
   * at the end), resuming a previous partial download when the hub allows.
   */
  async download(
    repo: string,
    file: string,
    destination: string,
    onProgress?: (progress: DownloadProgress) => void,
    options: DownloadOptions = {},
  ): Promise<DownloadResult> {
    const id = parseRepoId(repo);
    const path = parseRepoFile(file);
    return downloadRepoFile(this, id, path, destination, onProgress, options);
  }

  /**
   * One GET against the hub, redirects followed by hand so the token is only
   * ever sent to the hub's own origin (HF redirects file downloads to a CDN
   * with a signed URL) and the `X-Linked-*` headers of the hop are kept.
   * Answers with a 2xx response or throws a `HubError`.
   */
  async get(repo: string, path: string, init: { headers?: Record<string, string>; file?: string; signal?: AbortSignal } = {}): Promise<HubResponse> {
    const controller = new AbortController();
    // The caller's signal stays wired to the request until the body is read (idle.done()).
    const onCallerAbort = () => controller.abort(init.signal?.reason);
    init.signal?.addEventListener("abort", onCallerAbort, { once: true });
    if (init.signal?.aborted) onCallerAbort();
    const idle = idleTimer(controller, this.#timeoutMs, () => init.signal?.removeEventListener("abort", onCallerAbort));
    const origin = new URL(this.endpoint).origin;
    const linked: LinkedFile = {};
    let url = new URL(`${this.endpoint}${path}`);
    try {
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        const headers: Record<string, string> = { ...init.headers };
        if (this.#token && url.origin === origin) headers.authorization = `Bearer ${this.#token}`;
        const response = await this.#fetch(url, { headers, redirect: "manual", signal: controller.signal });
        idle.touch();
        linked.etag ??= unquote(response.headers.get("x-linked-etag"));
        linked.size ??= numberHeader(response.headers.get("x-linked-size"));
        const location = response.headers.get("location");
        if (response.status >= 300 && response.status < 400 && location) {
          await response.body?.cancel();
          url = new URL(location, url);
          continue;
        }
        if (!response.ok) {
          idle.done();
          throw await errorFor(response, repo, init.file, this.hasToken);
        }
        return { response, linked, idle };
      }
      throw new HubBadResponseError(`The hub redirected more than ${MAX_REDIRECTS} times for ${repo}.`, repo);
    } catch (error) {
      idle.done();
      if (error instanceof HubError) throw error;
      if (init.signal?.aborted) throw init.signal.reason;
      throw this.unreachable(repo, error);
    }
  }

  /** Wraps a network failure (refused, DNS, timeout) in the error callers expect. */
  unreachable(repo: string, error: unknown): HubUnreachableError {
    const reason = isAbort(error) ? `no answer within ${this.#timeoutMs / 1000} s` : error instanceof Error ? error.message : String(error);
    return new HubUnreachableError(`Could not reach the Hugging Face hub at ${this.endpoint}: ${reason}.`, repo, undefined, { cause: error });
  }

  async #json(repo: string, path: string, file?: string): Promise<unknown> {
    const { response, idle } = await this.get(repo, path, { file, headers: { accept: "application/json" } });
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw this.unreachable(repo, error);
    } finally {
      idle.done();
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      const what = file ? `${file} in ${repo}` : `the model info of ${repo}`;
      throw new HubBadResponseError(`The hub answered ${what} with something that is not JSON.`, repo, response.status, { cause: error });
    }
  }
}

/**
 * Maps a refusal to a code. HF names the reason in `X-Error-Code`; that comes
 * first because the status alone misleads: an unknown repo answers 401 (not
 * 404) to a request without a token, so private repos do not leak.
 */
async function errorFor(response: Response, repo: string, file: string | undefined, hasToken: boolean): Promise<HubError> {
  const code = response.headers.get("x-error-code");
  const status = response.status;
  await response.body?.cancel().catch(() => {});
  if (code === "RepoNotFound" || (status === 404 && !file && code === null)) {
    return new HubNotFoundError(`Hugging Face has no model '${repo}' (or it is private and the token cannot see it).`, repo, status);
  }
  if (code === "EntryNotFound" || code === "RevisionNotFound" || status === 404) {
    return new HubNotFoundError(`'${file}' is not in ${repo} (main branch).`, repo, status);
  }
  if (code === "GatedRepo" || status === 401 || status === 403) {
    return new HubGatedError(
      hasToken
        ? `The Hugging Face token has no access to ${repo}: it is gated, and access must be granted on its page.`
        : `${repo} is gated: it needs a Hugging Face token with access.`,
      repo,
      status,
    );
  }
  if (status === 429) return new HubUnreachableError("The Hugging Face hub is rate limiting requests; try again in a minute.", repo, status);
  if (status >= 500) return new HubUnreachableError(`The Hugging Face hub answered ${status}; it may be down, try again later.`, repo, status);
  return new HubBadResponseError(`The Hugging Face hub answered ${status} for ${repo}.`, repo, status);
}

/** Aborts the request when nothing arrives for `ms`; `done()` stops it and releases the caller's signal. */
function idleTimer(controller: AbortController, ms: number, release: () => void) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new DOMException("timed out", "TimeoutError")), ms);
  };
  touch();
  return {
    touch,
    done: () => {
      clearTimeout(timer);
      release();
    },
  };
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError");
}

/** At most `limit` bytes of a body (a hub that ignores `Range` would otherwise send gigabytes). */
async function readUpTo(response: Response, limit: number): Promise<Uint8Array> {
  const out = new Uint8Array(limit);
  let length = 0;
  const reader = response.body?.getReader();
  if (!reader) return out.subarray(0, 0);
  while (length < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    const take = Math.min(value.byteLength, limit - length);
    out.set(value.subarray(0, take), length);
    length += take;
  }
  await reader.cancel().catch(() => {});
  return out.subarray(0, length);
}

function unquote(value: string | null): string | undefined {
  return value ? value.replace(/^W\//, "").replace(/"/g, "") : undefined;
}

function numberHeader(value: string | null): number | undefined {
  const n = value === null ? NaN : Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

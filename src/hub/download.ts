import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { HubBadResponseError, HubError } from "./errors";
import { repoFileUrlPath } from "./repo-id";
import type { HubFileSource, HubResponse } from "./response";

export interface DownloadProgress {
  receivedBytes: number;
  /** From the hub's content length; null when it did not say. */
  totalBytes: number | null;
  /** 0…1, null when the total is unknown; reaches exactly 1 once, at the end. */
  fraction: number | null;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  /** Continue a `.part` file left by an interrupted download (default true). */
  resume?: boolean;
  /** Least time between two progress reports, so a caller writing them to a database is not flooded (default 100 ms). */
  progressIntervalMs?: number;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
  /** Bytes kept from an earlier, interrupted download (0 for a fresh one). */
  resumedFromBytes: number;
  /** True when the hub gave the file's sha256 (LFS files) and the bytes matched it. */
  verified: boolean;
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * The download behind `HubClient.download`. Bytes go to `<destination>.part`
 * and are renamed into place only once complete (and checked against the
 * hub's sha256 when it gives one), so a crash never leaves a file that looks
 * whole. An interrupted `.part` is continued with a `Range` request.
 */
export async function downloadRepoFile(
  client: HubFileSource,
  repo: string,
  file: string,
  destination: string,
  onProgress: ((progress: DownloadProgress) => void) | undefined,
  options: DownloadOptions,
): Promise<DownloadResult> {
  const part = `${destination}.part`;
  await mkdir(dirname(destination), { recursive: true });
  let start = options.resume === false ? 0 : await sizeOf(part);
  const path = repoFileUrlPath(repo, file);

  let answer: HubResponse;
  try {
    answer = await client.get(repo, path, { file, signal: options.signal, headers: start > 0 ? { range: `bytes=${start}-` } : {} });
  } catch (error) {
    // 416: the part is not a prefix of what the hub has now (the file changed); start over.
    if (!(start > 0 && error instanceof HubError && error.status === 416)) throw error;
    start = 0;
    answer = await client.get(repo, path, { file, signal: options.signal });
  }
  const { response, linked, idle } = answer;
  if (response.status !== 206) start = 0; // the hub ignored the range: it sends the whole file
  const total = totalBytes(response, start) ?? linked.size ?? null;

  const hasher = new Bun.CryptoHasher("sha256");
  if (start > 0) for await (const chunk of Bun.file(part).stream()) hasher.update(chunk);

  const report = progressReporter(onProgress, total, options.progressIntervalMs ?? 100);
  let received = start;
  report(received, false);
  const handle = await open(part, start > 0 ? "a" : "w");
  try {
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        idle.touch();
        await handle.write(value);
        hasher.update(value);
        received += value.byteLength;
        report(received, false);
      }
    }
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw client.unreachable(repo, error);
  } finally {
    idle.done();
    await handle.close();
  }

  if (total !== null && received !== total) {
    // Keep the part: the next attempt resumes from here.
    throw new HubBadResponseError(`The download of ${file} from ${repo} stopped at ${received} of ${total} bytes.`, repo, response.status);
  }
  const sha256 = hasher.digest("hex");
  const expected = linked.etag && SHA256.test(linked.etag) ? linked.etag : undefined;
  if (expected && expected !== sha256) {
    await rm(part, { force: true });
    throw new HubBadResponseError(`${file} from ${repo} is corrupt: its sha256 is ${sha256}, the hub says ${expected}.`, repo);
  }
  await rename(part, destination);
  report(received, true);
  return { path: destination, bytes: received, sha256, resumedFromBytes: start, verified: Boolean(expected) };
}

/** Reports at most once per interval, never backwards, and the end exactly once with fraction 1. */
function progressReporter(onProgress: ((progress: DownloadProgress) => void) | undefined, total: number | null, intervalMs: number) {
  let last = -Infinity;
  return (received: number, final: boolean) => {
    if (!onProgress) return;
    const now = performance.now();
    if (!final && now - last < intervalMs) return;
    last = now;
    const fraction = final ? 1 : total ? Math.min(received / total, 0.999_999) : null;
    onProgress({ receivedBytes: received, totalBytes: final ? received : total, fraction });
  };
}

/** The whole file's size: from `Content-Range` on a 206, else `Content-Length`. */
function totalBytes(response: Response, start: number): number | undefined {
  const range = /\/(\d+)\s*$/.exec(response.headers.get("content-range") ?? "");
  if (response.status === 206 && range) return Number(range[1]);
  const length = Number(response.headers.get("content-length") ?? NaN);
  return Number.isSafeInteger(length) ? length + (response.status === 206 ? start : 0) : undefined;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

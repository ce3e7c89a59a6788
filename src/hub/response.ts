/** What the hub said about a file on its way to the bytes (HF puts these on the redirect to its CDN). */
export interface LinkedFile {
  /** `X-Linked-Etag`: the sha256 of an LFS file. */
  etag?: string;
  /** `X-Linked-Size`: the file's size in bytes. */
  size?: number;
}

export interface HubResponse {
  response: Response;
  linked: LinkedFile;
  /** Aborts the body read if it stalls; call `done()` once the body is consumed. */
  idle: { touch(): void; done(): void };
}

/** What a download needs from the hub client: one file request, and the error for a hub that cannot be reached. */
export interface HubFileSource {
  get(repo: string, path: string, init?: { headers?: Record<string, string>; file?: string; signal?: AbortSignal }): Promise<HubResponse>;
  unreachable(repo: string, error: unknown): Error;
}

/**
 * What can go wrong talking to the Hugging Face hub. The client throws these;
 * `validateModel` turns them into assessment problems, and the download worker
 * into an instance's failure reason.
 */
export type HubErrorCode = "not_found" | "gated" | "unreachable" | "bad_response";

export class HubError extends Error {
  constructor(
    readonly code: HubErrorCode,
    message: string,
    readonly repo: string,
    /** The HTTP status, when the hub answered at all. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The repo, or a file in it, does not exist (or is private to someone else: the hub does not say which). */
export class HubNotFoundError extends HubError {
  constructor(message: string, repo: string, status?: number) {
    super("not_found", message, repo, status);
  }
}

/** The repo is gated and the request had no token, or a token without access. */
export class HubGatedError extends HubError {
  constructor(message: string, repo: string, status?: number) {
    super("gated", message, repo, status);
  }
}

/** No answer: connection refused, DNS, timeout, rate limit or a 5xx. Worth retrying later. */
export class HubUnreachableError extends HubError {
  constructor(message: string, repo: string, status?: number, options?: { cause?: unknown }) {
    super("unreachable", message, repo, status, options);
  }
}

/** The hub answered something this client cannot use (not JSON, wrong shape, truncated or corrupt file). */
export class HubBadResponseError extends HubError {
  constructor(message: string, repo: string, status?: number, options?: { cause?: unknown }) {
    super("bad_response", message, repo, status, options);
  }
}

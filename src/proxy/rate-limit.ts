import { rateLimited } from "./errors";

/** The rate-limit headers OpenAI sends, for one key at one moment. */
export interface RateLimitState {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Until the bucket is full again. */
  resetMs: number;
  /** Until one more request is allowed (0 when allowed). */
  retryAfterMs: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per API key, in this api process's memory: `perMinute`
 * requests of burst, refilled continuously at `perMinute` per minute. With
 * several api replicas each enforces its own bucket, so the fleet-wide limit
 * is a multiple of this one; the limit protects runtimes from one runaway
 * client, not billing (billing is per second of capacity, not per request).
 */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;
  readonly #maxKeys: number;

  constructor(
    readonly perMinute: number,
    options: { now?: () => number; maxKeys?: number } = {},
  ) {
    this.#now = options.now ?? Date.now;
    this.#maxKeys = options.maxKeys ?? 100_000;
  }

  take(key: string): RateLimitState {
    const now = this.#now();
    const ratePerMs = this.perMinute / 60_000;
    let bucket = this.#buckets.get(key);
    if (bucket) bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * ratePerMs);
    else {
      if (this.#buckets.size >= this.#maxKeys) this.#prune(now, ratePerMs);
      bucket = { tokens: this.perMinute, at: now };
      this.#buckets.set(key, bucket);
    }
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    return {
      allowed,
      limit: this.perMinute,
      remaining: Math.floor(bucket.tokens),
      resetMs: Math.ceil((this.perMinute - bucket.tokens) / ratePerMs),
      retryAfterMs: allowed ? 0 : Math.ceil((1 - bucket.tokens) / ratePerMs),
    };
  }

  /** Forgets buckets that have refilled: they behave exactly like new ones. */
  #prune(now: number, ratePerMs: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.at) * ratePerMs >= this.perMinute) this.#buckets.delete(key);
    }
    // Still full of active keys: drop the oldest rather than grow without bound.
    while (this.#buckets.size >= this.#maxKeys) this.#buckets.delete(this.#buckets.keys().next().value as string);
  }
}

/** `x-ratelimit-*` headers as OpenAI sends them (reset as a duration such as "1s" or "6m0s"). */
export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  return {
    "x-ratelimit-limit-requests": String(state.limit),
    "x-ratelimit-remaining-requests": String(state.remaining),
    "x-ratelimit-reset-requests": formatDuration(state.resetMs),
  };
}

/** The 429 for a refused state, with `Retry-After` in whole seconds (at least 1). */
export function refusal(state: RateLimitState) {
  return rateLimited(state.limit, Math.max(1, Math.ceil(state.retryAfterMs / 1000)));
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const totalSeconds = Math.ceil(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}

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
 * A token bucket per key, in this process's memory: `perMinute` requests of
 * burst, refilled continuously at `perMinute` per minute. The api limits
 * /v1 with `SharedRateLimiter`, which falls back to this one when the
 * database cannot be asked; the limit protects runtimes from one runaway
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

/** Takes up to `wanted` tokens from a key's bucket shared by every api replica: how many it got, and what the bucket holds after. */
export type LeaseTokens = (key: string, perMinute: number, wanted: number) => Promise<{ granted: number; left: number }>;

interface LocalLease {
  /** Tokens taken from the shared bucket and not yet spent by this replica. */
  tokens: number;
  /** What the shared bucket held after the last lease, for the headers. */
  sharedLeft: number;
  /** The shared bucket was empty: refused here, without asking again, until then. */
  emptyUntil: number;
  leasing: Promise<void> | undefined;
}

/**
 * The /v1 limit across every api replica: one token bucket per key in PostgreSQL (`qdz_rate_limit_take`,
 * on the database's clock), from which each replica leases a few tokens at a time and spends them in memory.
 * A request costs a database round trip only when its replica's lease runs out: once every `chunk` requests
 * (a hundredth of the limit), and for a key over its limit once per lease's worth of refill, since an empty
 * bucket is remembered until then. What replicas hold unspent is the only slack: a lease left on a replica the
 * client stopped reaching is spent late or never, so over any window the fleet stays within `replicas × chunk`
 * requests of the limit (4 % at 4 replicas).
 * If the database cannot be asked, this replica falls back to its own bucket rather than refuse everything.
 */
export class SharedRateLimiter {
  readonly #leases = new Map<string, LocalLease>();
  readonly #fallback: RateLimiter;
  readonly #chunk: number;
  readonly #now: () => number;
  readonly #maxKeys: number;
  readonly #onLeaseError: (error: unknown) => void;

  constructor(
    readonly perMinute: number,
    private readonly lease: LeaseTokens,
    options: { now?: () => number; maxKeys?: number; onLeaseError?: (error: unknown) => void } = {},
  ) {
    this.#chunk = Math.max(1, Math.floor(perMinute / 100));
    this.#now = options.now ?? Date.now;
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#fallback = new RateLimiter(perMinute, options);
    this.#onLeaseError = options.onLeaseError ?? (() => {});
  }

  /** Synchronous while this replica's lease lasts (the hot path); a promise only when it must lease more. */
  take(key: string): RateLimitState | Promise<RateLimitState> {
    const local = this.#local(key);
    if (local.tokens >= 1) {
      local.tokens -= 1;
      return this.#state(true, local);
    }
    const now = this.#now();
    if (now < local.emptyUntil) return this.#state(false, local, local.emptyUntil - now);
    return this.#takeLeased(key, local);
  }

  async #takeLeased(key: string, local: LocalLease): Promise<RateLimitState> {
    for (;;) {
      if (!local.leasing) local.leasing = this.#refill(key, local).finally(() => (local.leasing = undefined));
      try {
        await local.leasing;
      } catch (error) {
        this.#onLeaseError(error);
        return this.#fallback.take(key);
      }
      if (local.tokens >= 1) {
        local.tokens -= 1;
        return this.#state(true, local);
      }
      const now = this.#now();
      if (now < local.emptyUntil) return this.#state(false, local, local.emptyUntil - now);
    }
  }

  async #refill(key: string, local: LocalLease): Promise<void> {
    const { granted, left } = await this.lease(key, this.perMinute, this.#chunk);
    local.tokens += granted;
    local.sharedLeft = left;
    // Nothing granted: asked again once a whole lease is due, so a client far over its limit costs each
    // replica one query per lease's worth of refill, not one per token (tokens wait in the bucket meanwhile).
    if (granted === 0) local.emptyUntil = this.#now() + Math.ceil(((this.#chunk - left) * 60_000) / this.perMinute);
  }

  #local(key: string): LocalLease {
    let local = this.#leases.get(key);
    if (!local) {
      // Forgetting a key loses at most the few tokens it had leased: the limit only gets stricter.
      while (this.#leases.size >= this.#maxKeys) this.#leases.delete(this.#leases.keys().next().value as string);
      local = { tokens: 0, sharedLeft: this.perMinute, emptyUntil: 0, leasing: undefined };
      this.#leases.set(key, local);
    }
    return local;
  }

  #state(allowed: boolean, local: LocalLease, retryAfterMs = 0): RateLimitState {
    const held = local.sharedLeft + local.tokens;
    return {
      allowed,
      limit: this.perMinute,
      remaining: Math.max(0, Math.floor(held)),
      resetMs: Math.ceil(((this.perMinute - Math.min(this.perMinute, held)) * 60_000) / this.perMinute),
      retryAfterMs,
    };
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

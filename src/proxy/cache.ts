import type postgres from "postgres";
import type { Executor } from "../../db/client";
import { type ApiKeyPrincipal, authenticateApiKey } from "../api-keys/authenticate";
import { sha256Hex } from "../auth/secrets";
import { log } from "../platform/log";
import { cacheLookupCounter } from "../platform/metrics";
import { LookupCache } from "./lookup-cache";
import { loadRoute, type Route } from "./routing";

/** The channel the triggers of migration 0004 notify on. */
export const CACHE_CHANNEL = "qdz_cache";

export type CacheNotification = { kind: "api_key"; key_id: string } | { kind: "account"; account_id: string };

export interface ProxyCacheOptions {
  ttlMs: number;
  maxEntries?: number;
}

/**
 * The proxy's hot-path lookups: API key → account and (account, serving
 * name) → route. Entries are dropped when PostgreSQL notifies a change
 * (revocation, state, serving name, current run, runtime URL), and expire
 * after a short TTL in case a notification was missed.
 */
export class ProxyCache {
  /** By the key's SHA-256, as stored; tagged with the key id, which is what a notification names. */
  readonly keys: LookupCache<ApiKeyPrincipal | null>;
  /** By account and serving name; tagged with the account. Unknown names are cached too. */
  readonly routes: LookupCache<Route>;
  #listening: Promise<void> | undefined;
  #unlisten: (() => Promise<void>) | undefined;

  constructor(
    private readonly db: Executor,
    options: ProxyCacheOptions,
  ) {
    const maxEntries = options.maxEntries ?? 50_000;
    this.keys = new LookupCache({ ttlMs: options.ttlMs, maxEntries, onLookup: cacheLookupCounter("api_keys") });
    this.routes = new LookupCache({ ttlMs: options.ttlMs, maxEntries, onLookup: cacheLookupCounter("routes") });
  }

  /** The principal of a well-formed key secret, or null when unknown or revoked (cached too: secrets are unguessable). */
  principal(secret: string): Promise<ApiKeyPrincipal | null> {
    return this.keys.get(
      sha256Hex(secret),
      () => authenticateApiKey(this.db, secret),
      (principal) => (principal ? `key:${principal.keyId}` : null),
    );
  }

  route(accountId: string, servingName: string): Promise<Route> {
    return this.routes.get(
      `${accountId}\u0000${servingName}`,
      () => loadRoute(this.db, accountId, servingName),
      () => `account:${accountId}`,
    );
  }

  apply(notification: CacheNotification): void {
    if (notification.kind === "api_key") this.keys.invalidateTag(`key:${notification.key_id}`);
    else this.routes.invalidateTag(`account:${notification.account_id}`);
  }

  /** Applies a raw notification payload; anything unreadable drops everything, which is always safe. */
  applyPayload(payload: string): void {
    const notification = parseNotification(payload);
    if (notification) this.apply(notification);
    else this.clear();
  }

  clear(): void {
    this.keys.clear();
    this.routes.clear();
  }

  /**
   * LISTENs on the cache channel over `sql`'s dedicated connection. Each
   * (re)connect clears the cache: changes made while disconnected were not heard.
   * Idempotent; resolves once the first LISTEN is in place.
   */
  listen(sql: postgres.Sql): Promise<void> {
    this.#listening ??= sql
      .listen(
        CACHE_CHANNEL,
        (payload) => this.applyPayload(payload),
        () => this.clear(),
      )
      .then((meta) => {
        this.#unlisten = meta.unlisten;
      })
      .catch((error) => {
        // Serving goes on with the TTL as the only bound on staleness; the next call tries again.
        log.error({ err: error }, "proxy cache: LISTEN failed; entries expire by TTL only until it succeeds");
        this.#listening = undefined;
      });
    return this.#listening;
  }

  async close(): Promise<void> {
    await this.#unlisten?.().catch(() => {});
  }
}

export function parseNotification(payload: string): CacheNotification | null {
  try {
    const value = JSON.parse(payload) as Record<string, unknown>;
    if (value?.kind === "api_key" && typeof value.key_id === "string") return { kind: "api_key", key_id: value.key_id };
    if (value?.kind === "account" && typeof value.account_id === "string") return { kind: "account", account_id: value.account_id };
  } catch {
    // Falls through: the caller clears everything.
  }
  return null;
}

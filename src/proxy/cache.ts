import type { Executor } from "../../db/client";
import { type ApiKeyPrincipal, authenticateApiKey } from "../api-keys/authenticate";
import { sha256Hex } from "../auth/secrets";
import type { CacheNotification, InvalidatedCache } from "../platform/cache-bus";
import { cacheLookupCounter } from "../platform/metrics";
import { LookupCache } from "./lookup-cache";
import { loadRoute, type Route } from "./routing";

export interface ProxyCacheOptions {
  ttlMs: number;
  maxEntries?: number;
}

/**
 * The proxy's hot-path lookups: API key → account and (account, serving
 * name) → route. Entries are dropped when the cache bus hears a change
 * (revocation, state, serving name, current run, runtime URL), and expire
 * after a short TTL in case a notification was missed.
 */
export class ProxyCache implements InvalidatedCache {
  /** By the key's SHA-256, as stored; tagged with the key id, which is what a notification names. */
  readonly keys: LookupCache<ApiKeyPrincipal | null>;
  /** By account and serving name; tagged with the account. Unknown names are cached too. */
  readonly routes: LookupCache<Route>;

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
    else if (notification.kind === "account") this.routes.invalidateTag(`account:${notification.account_id}`);
  }

  clear(): void {
    this.keys.clear();
    this.routes.clear();
  }
}

import type postgres from "postgres";
import { log } from "./log";

/** The channel the triggers of migrations 0004 and 0020 notify on, at commit (a rolled-back change says nothing). */
export const CACHE_CHANNEL = "qdz_cache";

/** What a committed change made stale, as the triggers name it. */
export type CacheNotification =
  /** A key was revoked, moved or deleted. */
  | { kind: "api_key"; key_id: string }
  /** How the account's serving names resolve changed (state, name, run, runtime URL). */
  | { kind: "account"; account_id: string }
  /** One of the account's firewalls, or which instance has which, changed. */
  | { kind: "firewall"; account_id: string }
  /** A run ended: its pod's next report is answered "over". */
  | { kind: "run_ended"; run_id: string };

/** A per-process cache the bus keeps current. */
export interface InvalidatedCache {
  /** Drops what the notification makes stale; kinds the cache does not hold are ignored. */
  apply(notification: CacheNotification): void;
  /** Drops everything: after a reconnect (notifications were missed) or an unreadable payload. */
  clear(): void;
}

/**
 * The one way every in-memory cache of a process (the proxy's keys and routes, firewall lookups, agent
 * tokens) learns of changes made by any replica: a single LISTEN connection, fanned out to each cache.
 * Every cache still bounds its entries' age (V1_CACHE_TTL_MS) in case a notification is lost.
 */
export class CacheBus {
  readonly #caches = new Set<InvalidatedCache>();
  #listening: Promise<void> | undefined;
  #unlisten: (() => Promise<void>) | undefined;

  subscribe(cache: InvalidatedCache): void {
    this.#caches.add(cache);
  }

  /** Applies a raw payload; anything unreadable drops everything, which is always safe. */
  applyPayload(payload: string): void {
    const notification = parseNotification(payload);
    for (const cache of this.#caches) {
      if (notification) cache.apply(notification);
      else cache.clear();
    }
  }

  /**
   * LISTENs over `sql`'s dedicated connection. Each (re)connect clears every cache: changes made while
   * disconnected were not heard. Idempotent; resolves once the first LISTEN is in place.
   */
  listen(sql: postgres.Sql): Promise<void> {
    this.#listening ??= sql
      .listen(
        CACHE_CHANNEL,
        (payload) => this.applyPayload(payload),
        () => {
          for (const cache of this.#caches) cache.clear();
        },
      )
      .then((meta) => {
        this.#unlisten = meta.unlisten;
      })
      .catch((error) => {
        // Serving goes on with the TTL as the only bound on staleness; the next call tries again.
        log.error({ err: error }, "cache bus: LISTEN failed; cached entries expire by TTL only until it succeeds");
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
    if ((value?.kind === "account" || value?.kind === "firewall") && typeof value.account_id === "string") {
      return { kind: value.kind, account_id: value.account_id };
    }
    if (value?.kind === "run_ended" && typeof value.run_id === "string") return { kind: "run_ended", run_id: value.run_id };
  } catch {
    // Falls through: the caller clears everything.
  }
  return null;
}

import { and, eq } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { firewalls, instanceFirewalls } from "../../db/schema";
import type { CacheNotification, InvalidatedCache } from "../platform/cache-bus";
import { cacheLookupCounter } from "../platform/metrics";
import { LookupCache } from "../proxy/lookup-cache";
import type { Rule } from "./rules/schemas";
import { withRules } from "./stored";

/** What screening needs of a firewall. */
export interface ScreeningFirewall {
  id: string;
  name: string;
  rules: Rule[];
  storePromptText: boolean;
}

const columns = { id: firewalls.id, name: firewalls.name, rules: firewalls.rules, storePromptText: firewalls.storePromptText };

/**
 * Instance → firewall (and playground firewall id → firewall), cached per
 * process so the proxy's hot path makes no query in the common case, most
 * of all when no firewall is attached (a cached null). Entries are tagged
 * with their account: the cache bus drops an account's entries when any
 * replica commits a change to its firewalls or attachments (migration 0020),
 * and the verbs drop them in their own process at once, before they answer,
 * so the caller's next prompt never sees the old policy even on this replica.
 */
export class FirewallLookups implements InvalidatedCache {
  readonly #cache: LookupCache<ScreeningFirewall | null>;

  constructor(options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}) {
    this.#cache = new LookupCache({
      // A safety net only: notifications normally arrive within milliseconds.
      ttlMs: options.ttlMs ?? 30_000,
      maxEntries: options.maxEntries ?? 10_000,
      now: options.now,
      onLookup: cacheLookupCounter("firewalls"),
    });
  }

  forInstance(db: Executor, accountId: string, instanceId: string): Promise<ScreeningFirewall | null> {
    return this.#cache.get(
      `i:${accountId}:${instanceId}`,
      async () => {
        const [row] = await db
          .select(columns)
          .from(instanceFirewalls)
          .innerJoin(firewalls, eq(firewalls.id, instanceFirewalls.firewallId))
          .where(and(eq(instanceFirewalls.instanceId, instanceId), eq(firewalls.accountId, accountId)));
        return row ? withRules(row) : null;
      },
      () => `account:${accountId}`,
    );
  }

  /** A firewall picked per request (the playground); null when the account has no such firewall. */
  byId(db: Executor, accountId: string, firewallId: string): Promise<ScreeningFirewall | null> {
    return this.#cache.get(
      `f:${accountId}:${firewallId}`,
      async () => {
        const [row] = await db
          .select(columns)
          .from(firewalls)
          .where(and(eq(firewalls.id, firewallId), eq(firewalls.accountId, accountId)));
        return row ? withRules(row) : null;
      },
      () => `account:${accountId}`,
    );
  }

  /** A verb changed the account's firewalls or attachments. */
  invalidateAccount(accountId: string): void {
    this.#cache.invalidateTag(`account:${accountId}`);
  }

  apply(notification: CacheNotification): void {
    if (notification.kind === "firewall") this.invalidateAccount(notification.account_id);
  }

  clear(): void {
    this.#cache.clear();
  }
}

/** The process's one cache, shared by the verbs (which invalidate it), `screenPrompt` (which reads it) and the api's cache bus. */
export const firewallLookups = new FirewallLookups();

import { and, eq } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { firewalls, instanceFirewalls } from "../../db/schema";
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
 * of all when no firewall is attached (a cached null). Changes made through
 * this process's verbs clear the cache at once; they are rare next to
 * prompts, so clearing all beats bookkeeping. Other api processes see a
 * change within `ttlMs`: a short staleness bound for a policy edit, chosen
 * over a LISTEN/NOTIFY trigger to keep the migration plain (the proxy's
 * notify channel could carry it later).
 */
export class FirewallLookups {
  readonly #cache: LookupCache<ScreeningFirewall | null>;

  constructor(options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}) {
    this.#cache = new LookupCache({
      ttlMs: options.ttlMs ?? 5_000,
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
      () => null,
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
      () => null,
    );
  }

  invalidateInstance(_instanceId: string): void {
    this.#cache.clear();
  }

  invalidateFirewall(_firewallId: string): void {
    this.#cache.clear();
  }
}

/** The process's one cache, shared by the verbs (which invalidate it) and `screenPrompt` (which reads it). */
export const firewallLookups = new FirewallLookups();

import type { Offer } from "../scheduler/offers";
import type { OfferQuery } from "./seam";

/** What the cache needs of a provider: its id and its offers. */
export interface OfferSource {
  readonly id: string;
  readonly liveOffers?: boolean;
  offers(query: OfferQuery): Promise<Offer[]>;
}

/** Every GPU type, region and tier: the cache keeps all of a provider's capacity, and placement filters it. */
export const ANY_OFFER: OfferQuery = { gpuTypes: [], gpuCount: 1, regions: [], tier: null };

/** An offer as placement sees it: with how old the provider's answer is. */
export interface CachedOffer extends Offer {
  /** Seconds since the provider gave this offer. */
  ageSeconds: number;
}

export interface ProviderHealth {
  providerId: string;
  /** Healthy: it answered at its last refresh and the answer is fresh. Degraded: its offers are ranked out. */
  state: "healthy" | "degraded" | "unknown";
  /** When it last answered (ISO), or null if it never has. */
  answeredAt: string | null;
  offers: number;
  /** Why it is degraded: the last error, or the answer's age. */
  reason: string | null;
}

export interface OffersCacheOptions {
  /** How often each provider is asked, in the background. */
  refreshMs?: number;
  /** An answer older than this is not used (its provider is degraded): several refreshes in a row failed. */
  maxAgeMs?: number;
  /** How long one provider's answer may take before it counts as a failure. */
  timeoutMs?: number;
  now?: () => number;
}

interface Entry {
  offers: Offer[];
  answeredAt: number | null;
  error: string | null;
  refreshing: Promise<void> | null;
}

/**
 * Each provider's offers, asked in the background every `refreshMs`, so placement and the launch check read
 * memory and never wait on a cloud's API. A provider whose last answer failed, or is older than `maxAgeMs`,
 * is degraded: its offers are left out until it answers again, and its health says why.
 */
export class OffersCache {
  private readonly entries = new Map<string, Entry>();
  private readonly refreshMs: number;
  private readonly maxAgeMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private timer: Timer | null = null;

  constructor(
    private readonly providers: readonly OfferSource[],
    options: OffersCacheOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? 30_000;
    this.maxAgeMs = options.maxAgeMs ?? Math.max(3 * this.refreshMs, 90_000);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.now = options.now ?? Date.now;
    for (const provider of providers) this.entries.set(provider.id, { offers: [], answeredAt: null, error: null, refreshing: null });
  }

  /** Asks every provider now, then every `refreshMs` until `stop()`; the timer does not keep the process alive. */
  start(): this {
    if (this.timer) return this;
    const cached = this.providers.filter((p) => !p.liveOffers).map((p) => p.id);
    const refresh = () => Promise.all(cached.map((id) => this.refresh(id)));
    void refresh();
    this.timer = setInterval(() => void refresh(), this.refreshMs);
    this.timer.unref?.();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Asks the providers (all, or one) now; a refresh already under way is joined, not doubled. */
  async refresh(providerId?: string): Promise<void> {
    await Promise.all(this.providers.filter((p) => providerId === undefined || p.id === providerId).map((p) => this.refreshOne(p)));
  }

  /** The usable offers: every healthy provider's, with their age. Never waits on a provider. */
  offers(): CachedOffer[] {
    const now = this.now();
    return this.providers.flatMap((provider) => {
      const entry = this.entries.get(provider.id)!;
      if (!this.usable(entry, now)) return [];
      const ageSeconds = Math.max(0, Math.round((now - entry.answeredAt!) / 1000));
      return entry.offers.map((offer) => ({ ...offer, ageSeconds }));
    });
  }

  /** The offers, after a first answer from every provider that has not answered yet (start-up, tests). */
  async ready(): Promise<CachedOffer[]> {
    const waiting = this.providers.filter((p) => this.entries.get(p.id)!.answeredAt === null && this.entries.get(p.id)!.error === null);
    await Promise.all(waiting.map((p) => this.refreshOne(p)));
    return this.offers();
  }

  /**
   * What placement reads: the providers whose offers are free to ask (`liveOffers`), asked now, and every other
   * provider's last answer from memory (after its first, which is waited for once).
   */
  async current(): Promise<CachedOffer[]> {
    const live = this.providers.filter((p) => p.liveOffers);
    await Promise.all(live.map((p) => this.refreshOne(p)));
    return this.ready();
  }

  health(): ProviderHealth[] {
    const now = this.now();
    return this.providers.map((provider) => {
      const entry = this.entries.get(provider.id)!;
      const answeredAt = entry.answeredAt === null ? null : new Date(entry.answeredAt).toISOString();
      if (this.usable(entry, now)) return { providerId: provider.id, state: "healthy", answeredAt, offers: entry.offers.length, reason: null };
      if (entry.answeredAt === null && entry.error === null) return { providerId: provider.id, state: "unknown", answeredAt, offers: 0, reason: null };
      const age = entry.answeredAt === null ? null : Math.round((now - entry.answeredAt) / 1000);
      const reason = entry.error ?? `its offers are ${age} s old`;
      return { providerId: provider.id, state: "degraded", answeredAt, offers: 0, reason };
    });
  }

  private usable(entry: Entry, now: number): boolean {
    return entry.error === null && entry.answeredAt !== null && now - entry.answeredAt <= this.maxAgeMs;
  }

  private refreshOne(provider: OfferSource): Promise<void> {
    const entry = this.entries.get(provider.id)!;
    entry.refreshing ??= (async () => {
      try {
        const offers = await withTimeout(provider.offers(ANY_OFFER), this.timeoutMs, `${provider.id} did not answer within ${this.timeoutMs} ms`);
        entry.offers = offers;
        entry.answeredAt = this.now();
        entry.error = null;
      } catch (error) {
        entry.error = error instanceof Error ? error.message : String(error);
      } finally {
        entry.refreshing = null;
      }
    })();
    return entry.refreshing;
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: Timer | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

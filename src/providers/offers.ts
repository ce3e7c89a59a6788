import { type CachedOffer, OffersCache, type OffersCacheOptions } from "./offers-cache";
import type { Provider } from "./seam";

/** One cache per set of providers (a process builds its set once), refreshed in the background while it lives. */
const caches = new WeakMap<readonly Provider[], OffersCache>();

/** The cache behind `currentOffers`, for the providers' health (degraded or not, and how old their offers are). */
export function offersCacheFor(providers: readonly Provider[], options?: OffersCacheOptions): OffersCache {
  let cache = caches.get(providers);
  if (!cache) {
    cache = new OffersCache(providers, options).start();
    caches.set(providers, cache);
  }
  return cache;
}

/**
 * The capacity the providers offer now, as placement, the launch check and the launch verb read it: the local
 * machine's asked live, every cloud's and cluster's from the background cache with its age, and nothing from a
 * provider that is failing to answer (degraded), so placement never waits on a cloud's API.
 */
export function currentOffers(providers: readonly Provider[]): Promise<CachedOffer[]> {
  return offersCacheFor(providers).current();
}

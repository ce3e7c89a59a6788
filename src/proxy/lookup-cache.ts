/**
 * A small in-memory cache for the proxy's hot lookups, built to be dropped
 * by tag when PostgreSQL says a row changed:
 *
 * - entries live at most `ttlMs` (a safety net should a notification be lost);
 * - concurrent misses for one key share one load;
 * - a load that overlaps any invalidation is returned but not stored, so a
 *   row read just before a change never outlives the change (coarser than
 *   per tag, but bounded in memory and changes are rare next to reads);
 * - at most `maxEntries`; the oldest entries go first.
 */
export interface LookupCacheOptions {
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
  /** Told of every `get`: whether it was served from memory (for the api's metrics). */
  onLookup?: (hit: boolean) => void;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
  tag: string | null;
}

export class LookupCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #byTag = new Map<string, Set<string>>();
  readonly #loading = new Map<string, Promise<V>>();
  /** Bumped by every invalidation, so in-flight loads know they raced one. */
  #invalidations = 0;
  readonly #now: () => number;

  constructor(private readonly options: LookupCacheOptions) {
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached value, or `load()`'s, tagged with `tagOf(value)` so `invalidateTag` can drop it. */
  async get(key: string, load: () => Promise<V>, tagOf: (value: V) => string | null): Promise<V> {
    const entry = this.#entries.get(key);
    const hit = entry !== undefined && entry.expiresAt > this.#now();
    this.options.onLookup?.(hit);
    if (hit) return entry.value;
    if (entry) this.#delete(key);
    const pending = this.#loading.get(key);
    if (pending) return pending;
    const invalidationsBefore = this.#invalidations;
    const loading = load()
      .then((value) => {
        if (this.#invalidations === invalidationsBefore) this.#store(key, value, tagOf(value));
        return value;
      })
      .finally(() => this.#loading.delete(key));
    this.#loading.set(key, loading);
    return loading;
  }

  invalidateTag(tag: string): void {
    this.#invalidations++;
    const keys = this.#byTag.get(tag);
    if (!keys) return;
    for (const key of keys) this.#entries.delete(key);
    this.#byTag.delete(tag);
  }

  clear(): void {
    this.#invalidations++;
    this.#entries.clear();
    this.#byTag.clear();
  }

  #store(key: string, value: V, tag: string | null): void {
    this.#delete(key);
    while (this.#entries.size >= this.options.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#delete(oldest);
    }
    this.#entries.set(key, { value, expiresAt: this.#now() + this.options.ttlMs, tag });
    if (tag !== null) {
      let keys = this.#byTag.get(tag);
      if (!keys) {
        keys = new Set();
        this.#byTag.set(tag, keys);
      }
      keys.add(key);
    }
  }

  #delete(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    if (entry.tag === null) return;
    const keys = this.#byTag.get(entry.tag);
    keys?.delete(key);
    if (keys?.size === 0) this.#byTag.delete(entry.tag);
  }
}

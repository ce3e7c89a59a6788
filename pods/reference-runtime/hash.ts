import { createHash } from "node:crypto";

/**
 * Everything the reference runtime "generates" comes from here: a SHA-256 of
 * the request's content seeds a small PRNG, so the same input gives the same
 * output on every machine and every Bun version (Bun.hash makes no such promise).
 */

/** A deterministic stream of numbers in [0, 1). */
export interface Rng {
  next(): number;
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
}

/** The SHA-256 of the parts, each length-prefixed so ["ab","c"] and ["a","bc"] differ. */
export function digest(...parts: (string | Uint8Array)[]): Uint8Array {
  const hash = createHash("sha256");
  for (const part of parts) {
    const bytes = typeof part === "string" ? new TextEncoder().encode(part) : part;
    hash.update(`${bytes.length}:`);
    hash.update(bytes);
  }
  return new Uint8Array(hash.digest());
}

export function hexDigest(...parts: (string | Uint8Array)[]): string {
  return Buffer.from(digest(...parts)).toString("hex");
}

/** sfc32 seeded from the first 16 bytes of a digest: fast, and good enough for placeholder text. */
export function rngFrom(seed: Uint8Array): Rng {
  const view = new DataView(seed.buffer, seed.byteOffset, seed.byteLength);
  let a = view.getUint32(0, true);
  let b = view.getUint32(4, true);
  let c = view.getUint32(8, true);
  let d = view.getUint32(12, true);
  const next = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // sfc32 mixes poorly in its first outputs; these are thrown away as its authors advise.
  for (let i = 0; i < 12; i++) next();
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)] as (typeof items)[number],
  };
}

/** A PRNG for a value that can be serialised (a request, a message list, a schema). */
export function rngFor(...parts: unknown[]): Rng {
  return rngFrom(digest(...parts.map((part) => (typeof part === "string" ? part : stableJson(part)))));
}

/** JSON with object keys sorted, so {a,b} and {b,a} hash alike. */
export function stableJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, inner) => {
      if (inner && typeof inner === "object" && !Array.isArray(inner)) {
        return Object.fromEntries(
          Object.keys(inner)
            .sort()
            .map((key) => [key, inner[key]]),
        );
      }
      return inner;
    }) ?? "null"
  );
}

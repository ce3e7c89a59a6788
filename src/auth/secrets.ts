import { timingSafeEqual } from "node:crypto";
import { randomBase62 } from "../ids";

/** Hex SHA-256: how API keys, session and invite tokens are stored. */
export function sha256Hex(text: string): string {
  return new Bun.CryptoHasher("sha256").update(text).digest("hex");
}

/** A bearer secret: `prefix` + 43 base62 characters, about 256 bits. */
export function newSecret(prefix: string): string {
  return `${prefix}${randomBase62(43)}`;
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

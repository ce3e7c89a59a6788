import { createHmac, timingSafeEqual } from "node:crypto";
import { randomBase62 } from "../ids";

/**
 * Alert webhooks are signed exactly as Stripe signs its own, so a receiver can verify them with Stripe's
 * libraries (`stripe.webhooks.constructEvent(body, header, secret)`) or with `verifySignature` below:
 * `QDZ-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>", keyed by the whole secret>`.
 */
export const SIGNATURE_HEADER = "QDZ-Signature";

/** `whsec_` and 32 base62 characters (about 190 bits), the shape Stripe's endpoint secrets have. */
export function newWebhookSecret(): string {
  return `whsec_${randomBase62(32)}`;
}

function hmacHex(secret: string, timestamp: number, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`, "utf8").digest("hex");
}

/** The header value for `body`, stamped `timestamp` (now, by default: each attempt is signed afresh). */
export function signatureHeader(body: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${hmacHex(secret, timestamp, body)}`;
}

/**
 * True when `header` carries a v1 signature of `body` by `secret`, stamped within `toleranceSeconds` of now
 * (an old, replayed delivery fails). Any of several v1 signatures may match, as in Stripe's scheme.
 */
export function verifySignature(body: string, header: string, secret: string, toleranceSeconds = 300, now = Date.now()): boolean {
  const fields = header.split(",").map((part) => part.trim().split("="));
  const timestamp = Number(fields.find(([key]) => key === "t")?.[1]);
  if (!Number.isInteger(timestamp) || Math.abs(now / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(hmacHex(secret, timestamp, body), "hex");
  return fields.some(([key, value]) => {
    if (key !== "v1" || value === undefined || !/^[0-9a-f]{64}$/i.test(value)) return false;
    return timingSafeEqual(Buffer.from(value, "hex"), expected);
  });
}

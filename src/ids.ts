const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Random base62 text of `length` characters, without modulo bias. */
export function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      // 248 = 4 × 62: bytes above it would favour the first characters.
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export const idPrefixes = {
  account: "acct",
  user: "usr",
  session: "sess",
  invite: "inv",
  apiKey: "key",
  sshKey: "ssh",
  ledgerEntry: "led",
  instance: "inst",
  run: "run",
  pod: "pod",
  firewall: "fw",
  budget: "bud",
  notification: "ntf",
  webhookDelivery: "whd",
  scheduleRule: "sch",
} as const;

export type IdKind = keyof typeof idPrefixes;

/** A prefixed id such as `acct_4fQ…`: the prefix makes logs and support tickets readable. */
export function newId(kind: IdKind): string {
  return `${idPrefixes[kind]}_${randomBase62(20)}`;
}

/**
 * An id for one HTTP request, echoed in `x-request-id` and in error bodies so
 * a support ticket can name the request: `req_` and 32 hex digits, as
 * OpenAI's look. Unique rather than secret, so the native UUID generator
 * (cheap on the /v1 hot path) serves.
 */
export function newRequestId(): string {
  return `req_${crypto.randomUUID().replaceAll("-", "")}`;
}

import ipaddr from "ipaddr.js";

/**
 * Which network addresses the proxy may fetch images from. The ranges come
 * from ipaddr.js (IANA's special-purpose registries); this file only decides
 * which of its range names are public and names the others for people.
 */
export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

/** Decides whether the proxy may open a connection to `address` on `port`. */
export type AddressPolicy = (address: string, port: number) => AddressVerdict;

const allowed: AddressVerdict = { allowed: true };
const refused = (reason: string): AddressVerdict => ({ allowed: false, reason });

const reasons: Record<string, string> = {
  loopback: "a loopback address",
  private: "a private address",
  uniqueLocal: "a unique-local (private) address",
  linkLocal: "a link-local address (cloud metadata services live there)",
  carrierGradeNat: "a carrier-grade NAT (shared) address",
  multicast: "a multicast address",
  unspecified: "an unspecified address",
  broadcast: "the broadcast address",
  reserved: "a reserved or documentation address",
};

const nat64LocalUse = ipaddr.parseCIDR("64:ff9b:1::/48");
const ipv4Compatible = ipaddr.parseCIDR("::/96");

/**
 * Public unicast only. Anything ipaddr.js does not call `unicast` is refused,
 * so a range it learns about later is refused too (an allow list, not a deny
 * list). IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4) are
 * judged by that IPv4 address, since that is where the packets end up.
 */
export const publicOnly: AddressPolicy = (address) => {
  if (!ipaddr.isValid(address)) return refused("not an IP address");
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv4") return byRange((parsed as ipaddr.IPv4).range());
  const v6 = parsed as ipaddr.IPv6;
  const embedded = embeddedIPv4(v6);
  if (embedded) {
    const inner = publicOnly(embedded, 0);
    return inner.allowed ? inner : refused(`${inner.reason} (IPv4 ${embedded} inside IPv6)`);
  }
  if (v6.match(nat64LocalUse)) return refused(reasons.private!);
  // ::a.b.c.d (deprecated IPv4-compatible) and the rest of ::/96 other than ::1 and :: are never public.
  if (v6.range() === "unicast" && v6.match(ipv4Compatible)) return refused(reasons.reserved!);
  return byRange(v6.range());
};

function byRange(range: string): AddressVerdict {
  if (range === "unicast") return allowed;
  return refused(reasons[range] ?? `a special-purpose address (${range})`);
}

/** The IPv4 address an IPv6 address stands for, for the forms that embed one. */
function embeddedIPv4(address: ipaddr.IPv6): string | null {
  const range = address.range();
  const parts = address.parts;
  const last32 = () => `${parts[6]! >> 8}.${parts[6]! & 255}.${parts[7]! >> 8}.${parts[7]! & 255}`;
  if (range === "ipv4Mapped" || range === "rfc6145") return last32();
  if (range === "rfc6052" && !address.match(nat64LocalUse)) return last32();
  if (range === "6to4") return `${parts[1]! >> 8}.${parts[1]! & 255}.${parts[2]! >> 8}.${parts[2]! & 255}`;
  return null;
}

/**
 * The public-only policy plus exactly one extra address and port. Only for
 * tests: it lets a fixture server on 127.0.0.1 serve an image while every
 * other loopback address and port stays refused.
 */
export function publicOnlyExcept(address: string, port: number): AddressPolicy {
  return (candidate, candidatePort) => (candidate === address && candidatePort === port ? allowed : publicOnly(candidate, candidatePort));
}

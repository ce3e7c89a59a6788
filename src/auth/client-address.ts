import ipaddr from "ipaddr.js";

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** The reverse proxies whose `X-Forwarded-For` is believed, parsed once from TRUSTED_PROXIES. */
export type TrustedProxies = readonly (readonly [Address, number])[];

/**
 * Parses a comma-separated list of addresses and CIDR ranges; a bare address
 * is a range of one. Throws naming the first entry that is neither.
 */
export function parseTrustedProxies(list: string): TrustedProxies {
  const entries = list
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  return entries.map((entry) => {
    const [text, bits, ...rest] = entry.split("/");
    const address = text === undefined ? null : parseAddress(text);
    const width = address?.kind() === "ipv4" ? 32 : 128;
    const prefix = bits === undefined ? width : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
    if (!address || rest.length > 0 || !(prefix >= 0 && prefix <= width)) {
      throw new Error(`'${entry}' is not an IP address or CIDR range`);
    }
    return [address, prefix] as const;
  });
}

/**
 * The address a request comes from. `X-Forwarded-For` is only believed when
 * the socket's peer is a trusted proxy: each proxy appends the address it saw,
 * so the header is read right to left, past the trusted proxies, and the first
 * address that is not one is the client. Entries left of it are whatever the
 * client chose to send, so they are never read. A header that cannot be
 * parsed on that walk gives the peer: the proxy's address, which a client
 * cannot choose, rather than a guess.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | null, trusted: TrustedProxies): string {
  const peerAddress = peer === undefined ? null : parseAddress(peer);
  if (!peerAddress) return peer ?? "unknown";
  if (!forwardedFor || !isTrusted(peerAddress, trusted)) return peerAddress.toString();

  const hops = forwardedFor.split(",");
  let client: Address = peerAddress;
  for (let index = hops.length - 1; index >= 0; index--) {
    const hop = parseAddress(hops[index]!.trim());
    if (!hop) return peerAddress.toString();
    client = hop;
    if (!isTrusted(hop, trusted)) break;
  }
  // Every hop trusted: the leftmost is the client (a caller inside the proxies' own network).
  return client.toString();
}

function isTrusted(address: Address, trusted: TrustedProxies): boolean {
  return trusted.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
}

/**
 * Dotted-quad IPv4 or IPv6 only: ipaddr.js's lenient forms (`127.1`, hex,
 * octal) are not what a proxy writes. IPv4-mapped IPv6 (`::ffff:1.2.3.4`, as
 * a dual-stack socket reports IPv4 peers) becomes plain IPv4, so one client
 * has one spelling.
 */
function parseAddress(text: string): Address | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (!text.includes(":") || !ipaddr.IPv6.isValid(text)) return null;
  const address = ipaddr.IPv6.parse(text);
  return address.isIPv4MappedAddress() ? address.toIPv4Address() : address;
}

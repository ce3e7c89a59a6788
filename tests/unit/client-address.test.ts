import { describe, expect, test } from "bun:test";
import { clientAddress, parseTrustedProxies } from "../../src/auth/client-address";
import { ConfigError, loadConfig } from "../../src/config";

const proxies = parseTrustedProxies("10.0.0.0/8, 192.0.2.1, 2001:db8::/32");

describe("the client address", () => {
  test("without trusted proxies it is the socket's peer, whatever X-Forwarded-For says", () => {
    expect(clientAddress("198.51.100.7", "203.0.113.9", [])).toBe("198.51.100.7");
    expect(clientAddress("10.1.2.3", "203.0.113.9", [])).toBe("10.1.2.3");
  });

  test("a peer that is not a listed proxy is the client even when proxies are listed", () => {
    expect(clientAddress("198.51.100.7", "203.0.113.9", proxies)).toBe("198.51.100.7");
  });

  test("through a listed proxy (address or CIDR) it is the forwarded address", () => {
    expect(clientAddress("192.0.2.1", "203.0.113.9", proxies)).toBe("203.0.113.9");
    expect(clientAddress("10.200.0.1", "203.0.113.9", proxies)).toBe("203.0.113.9");
  });

  test("read right to left past every trusted hop; spoofed entries left of the client are never read", () => {
    // The client sent "1.1.1.1, 8.8.8.8" itself; the edge proxy appended what it saw, the inner proxy its edge.
    expect(clientAddress("10.0.0.2", "1.1.1.1, 8.8.8.8, 203.0.113.9, 10.0.0.1", proxies)).toBe("203.0.113.9");
    expect(clientAddress("10.0.0.2", "garbage, 203.0.113.9", proxies)).toBe("203.0.113.9");
  });

  test("when every hop is a trusted proxy, the leftmost is the client", () => {
    expect(clientAddress("10.0.0.2", "10.9.9.9, 10.0.0.1", proxies)).toBe("10.9.9.9");
  });

  test("IPv6 peers, hops and ranges; IPv4-mapped IPv6 is IPv4", () => {
    expect(clientAddress("2001:db8::1", "2001:db9::42", proxies)).toBe("2001:db9::42");
    expect(clientAddress("2001:db8:0:0:0:0:0:1", "2001:0db9:0000::0042", proxies)).toBe("2001:db9::42");
    expect(clientAddress("::ffff:10.0.0.1", "::ffff:203.0.113.9", proxies)).toBe("203.0.113.9");
    expect(clientAddress("::ffff:198.51.100.7", null, proxies)).toBe("198.51.100.7");
    expect(clientAddress("10.0.0.1", "2001:db8::7, 2001:db9::42", proxies)).toBe("2001:db9::42");
  });

  test.each([
    "",
    " ",
    "not an address",
    "203.0.113.9:8080",
    "[2001:db9::42]",
    "127.1",
    "0x7f.0.0.1",
    "203.0.113.9,,",
    "203.0.113.9, unknown",
    "999.1.1.1",
    "203.0.113.9/24",
    "\u0000",
  ])("a malformed header through a trusted proxy (%p) gives the peer", (header) => {
    expect(clientAddress("10.0.0.1", header, proxies)).toBe("10.0.0.1");
  });

  test("no peer (a request handled in-process) is unknown, and the header is not believed", () => {
    expect(clientAddress(undefined, "203.0.113.9", proxies)).toBe("unknown");
  });
});

describe("TRUSTED_PROXIES", () => {
  test("unset is no proxies", () => {
    expect(loadConfig({}).TRUSTED_PROXIES).toEqual([]);
    expect(loadConfig({ TRUSTED_PROXIES: "" }).TRUSTED_PROXIES).toEqual([]);
  });

  test("takes addresses and CIDR ranges of both families", () => {
    expect(loadConfig({ TRUSTED_PROXIES: "127.0.0.1, 10.0.0.0/8,::1,fd00::/8" }).TRUSTED_PROXIES).toHaveLength(4);
  });

  test.each(["10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8/8", "proxy.internal", "127.1", "::1/129", "10.0.0.0/"])(
    "refuses %p naming the setting and the entry",
    (entry) => {
      expect(() => loadConfig({ TRUSTED_PROXIES: `127.0.0.1,${entry}` })).toThrow(ConfigError);
      expect(() => loadConfig({ TRUSTED_PROXIES: `127.0.0.1,${entry}` })).toThrow(`TRUSTED_PROXIES: '${entry}' is not`);
    },
  );
});

/** Who may change an instance's firewall for one request (`x-qdz-firewall`): never an API key, to get past it. */
import { describe, expect, test } from "bun:test";
import type { ProxyPrincipal } from "../../src/proxy/credentials";
import { ProxyError } from "../../src/proxy/errors";
import { firewallPick, NO_FIREWALL } from "../../src/proxy/firewall-choice";

const apiKey: ProxyPrincipal = { accountId: "acct_1", limiterKey: "key_1", keyId: "key_1", role: null };
const owner: ProxyPrincipal = { accountId: "acct_1", limiterKey: "session:s1", keyId: null, role: "owner" };
const member: ProxyPrincipal = { ...owner, limiterKey: "session:s2", role: "member" };

function refusal(principal: ProxyPrincipal, header: string): ProxyError {
  try {
    firewallPick(principal, header);
  } catch (error) {
    if (error instanceof ProxyError) return error;
    throw error;
  }
  throw new Error("the pick was allowed");
}

describe("firewallPick", () => {
  test("no header, or an empty one: the instance's own firewall", () => {
    for (const principal of [apiKey, owner, member]) {
      expect(firewallPick(principal, null)).toBeNull();
      expect(firewallPick(principal, "  ")).toBeNull();
    }
  });

  test("'none' is honoured for an owner's session only", () => {
    expect(firewallPick(owner, NO_FIREWALL)).toEqual({ firewallId: null, addOnly: false });
    const key = refusal(apiKey, NO_FIREWALL);
    expect([key.status, key.code]).toEqual([403, "firewall_bypass_refused"]);
    expect(key.message).toStartWith("An API key cannot turn off an instance's firewall");
    const byMember = refusal(member, NO_FIREWALL);
    expect([byMember.status, byMember.code]).toEqual([403, "firewall_bypass_refused"]);
    expect(byMember.message).toStartWith("Only an account owner can send a playground prompt with no firewall.");
  });

  test("a firewall id replaces the instance's for a session, and only adds screening for an API key", () => {
    expect(firewallPick(owner, "fw_1")).toEqual({ firewallId: "fw_1", addOnly: false });
    expect(firewallPick(member, "fw_1")).toEqual({ firewallId: "fw_1", addOnly: false });
    expect(firewallPick(apiKey, "fw_1")).toEqual({ firewallId: "fw_1", addOnly: true });
  });
});

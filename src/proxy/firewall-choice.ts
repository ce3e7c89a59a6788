import type { FirewallPick } from "../firewall/screen";
import type { ProxyPrincipal } from "./credentials";
import { ProxyError } from "./errors";

/** Picks a firewall for one request (the playground's dropdown), instead of the instance's own. */
export const FIREWALL_HEADER = "x-qdz-firewall";

/** The header's value for "No firewall": the playground's prompt goes to the model unscreened. */
export const NO_FIREWALL = "none";

/**
 * Set on an answer whose prompt a firewall redacted: the texts the model received, as URI-encoded JSON
 * `[{"field":"messages[2].content","text":"…"}]`, so the playground can show them. Only redactions pay for it.
 */
export const REDACTED_HEADER = "x-qdz-firewall-redacted";

/**
 * What `x-qdz-firewall` may do, by who sends it. The invariant: an API key can never get a prompt past
 * the instance's firewall. So a key may name a firewall only to add screening where the instance has
 * none (`addOnly`), and "none" is honoured only for a signed-in owner's session: the playground, from
 * our own origin (src/proxy/credentials.ts). A member's session may try another firewall, not none.
 */
export function firewallPick(principal: ProxyPrincipal, header: string | null): FirewallPick | null {
  const value = header?.trim();
  if (!value) return null;
  if (value !== NO_FIREWALL) return { firewallId: value, addOnly: principal.role === null };
  if (principal.role === "owner") return { firewallId: null, addOnly: false };
  throw new ProxyError(
    403,
    principal.role === null
      ? `An API key cannot turn off an instance's firewall: '${FIREWALL_HEADER}: ${NO_FIREWALL}' is honoured only in the playground, for an account owner.`
      : `Only an account owner can send a playground prompt with no firewall. Pick the instance's default or another firewall.`,
    "invalid_request_error",
    "firewall_bypass_refused",
    null,
  );
}

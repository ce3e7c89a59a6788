import type { Executor } from "../../db/client";
import { evaluate, type FiredRule } from "./evaluate";
import { recordFirewallEvents } from "./events";
import { type FirewallLookups, firewallLookups } from "./lookup";
import { locateTexts, promptTextsOf, type ScreenedEndpoint, writeTexts } from "./prompt-texts";

export interface ScreenTarget {
  accountId: string;
  instanceId: string;
  /** A firewall picked for this request (the playground), instead of the instance's own. */
  firewallId?: string | null;
}

export type ScreenResult<Body extends string | Uint8Array = string | Uint8Array> =
  | { action: "forward"; body: Body | string }
  | { action: "block"; rule: { id: string; kind: string }; firewall: { id: string; name: string }; message: string };

/**
 * The proxy's pre-prompt check. With no firewall (the common case) it costs a
 * cache hit and returns the body untouched, unparsed. Otherwise it screens
 * every prompt text: a block answers with the rule to name in the 400; a
 * redaction forwards the body re-serialised with the matches replaced; flags
 * forward the original bytes. Blocks and flags are recorded (awaited: they
 * are rare, and a lost audit row is worse than a few milliseconds).
 */
export async function screenPrompt<Body extends string | Uint8Array>(
  db: Executor,
  target: ScreenTarget,
  endpoint: ScreenedEndpoint,
  original: Body,
  options: {
    lookups?: FirewallLookups;
    /** `original` already parsed (the proxy parses it once to route): screening then never parses it again. */
    parsed?: unknown;
  } = {},
): Promise<ScreenResult<Body>> {
  const lookups = options.lookups ?? firewallLookups;
  const firewall = target.firewallId
    ? await lookups.byId(db, target.accountId, target.firewallId)
    : await lookups.forInstance(db, target.accountId, target.instanceId);
  // The hot path: no firewall, so the bytes go on undecoded and unparsed.
  if (!firewall || firewall.rules.length === 0) return { action: "forward", body: original };
  const body = options.parsed ?? parsed(original);
  // Not JSON: the proxy refuses such bodies before calling; nothing to screen either way.
  if (body === undefined) return { action: "forward", body: original };
  const { located, messageCount } = locateTexts(endpoint, body);
  const prompt = promptTextsOf(located, messageCount);
  const result = evaluate(firewall.rules, prompt);
  if (result.fired.length > 0) {
    await recordFirewallEvents(
      db,
      { accountId: target.accountId, instanceId: target.instanceId, firewallId: firewall.id, storePromptText: firewall.storePromptText },
      result.fired,
      prompt.texts,
    );
  }
  if (result.outcome === "block") {
    const rule = result.fired.at(-1)!;
    return {
      action: "block",
      rule: { id: rule.ruleId, kind: rule.kind },
      firewall: { id: firewall.id, name: firewall.name },
      message: `Firewall '${firewall.name}' blocked this prompt: rule '${rule.ruleId}' (${rule.kind}) ${blockReason(rule)}.`,
    };
  }
  if (result.outcome !== "redact") return { action: "forward", body: original };
  // A copy: the caller's parsed value stays what the client sent.
  const redacted = structuredClone(body);
  writeTexts(
    redacted,
    located,
    result.redactedTexts!.map((t) => t.text),
  );
  return { action: "forward", body: JSON.stringify(redacted) };
}

function blockReason(rule: FiredRule): string {
  if (rule.unscreened === "budget")
    return `could not screen all of it (from ${rule.field} on) within the time and size allowed for custom patterns; send a shorter prompt`;
  if (rule.unscreened === "pattern") return "has a pattern saved before custom patterns were RE2, which cannot run now; edit the rule";
  return `matched${rule.field === "*" ? "" : ` in ${rule.field}`}`;
}

function parsed(original: string | Uint8Array): unknown {
  try {
    return JSON.parse(typeof original === "string" ? original : new TextDecoder().decode(original));
  } catch {
    return undefined;
  }
}

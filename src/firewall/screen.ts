import type { Executor } from "../../db/client";
import { evaluate, type FiredRule, type PromptText } from "./evaluate";
import { recordFirewallEvents } from "./events";
import { type FirewallLookups, firewallLookups, type ScreeningFirewall } from "./lookup";
import { locateTexts, promptTextsOf, type ScreenedEndpoint, writeTexts } from "./prompt-texts";

/**
 * A firewall picked for one request instead of the instance's own; `firewallId: null` is none at all.
 * Who may pick what is the caller's rule (src/proxy/firewall-choice.ts); `addOnly` is how it is kept
 * here: such a pick applies only to an instance without a firewall, so it can add screening, never
 * swap the instance's firewall for a weaker one.
 */
export interface FirewallPick {
  firewallId: string | null;
  addOnly: boolean;
}

export interface ScreenTarget {
  accountId: string;
  instanceId: string;
  pick?: FirewallPick | null;
}

export type ScreenResult<Body extends string | Uint8Array = string | Uint8Array> =
  /** `redacted`: the texts a redaction changed, as the model receives them. */
  | { action: "forward"; body: Body | string; redacted?: PromptText[] }
  | { action: "block"; rule: { id: string; kind: string }; firewall: { id: string; name: string }; message: string }
  | { action: "refuse"; message: string };

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
  const firewall = await chosenFirewall(db, lookups, target);
  if (firewall === "refused") return { action: "refuse", message: PICK_REFUSED };
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
  const texts = result.redactedTexts!;
  writeTexts(
    redacted,
    located,
    texts.map((t) => t.text),
  );
  return { action: "forward", body: JSON.stringify(redacted), redacted: texts.filter((t, i) => t.text !== prompt.texts[i]!.text) };
}

const PICK_REFUSED =
  "This instance's own firewall screens every API-key request: an API key can pick a firewall only for an instance without one. Try other firewalls in the playground.";

async function chosenFirewall(db: Executor, lookups: FirewallLookups, target: ScreenTarget): Promise<ScreeningFirewall | null | "refused"> {
  const pick = target.pick;
  if (!pick) return lookups.forInstance(db, target.accountId, target.instanceId);
  if (pick.addOnly) {
    const own = await lookups.forInstance(db, target.accountId, target.instanceId);
    // Naming the instance's own firewall changes nothing; naming another would replace it.
    if (own && own.id !== pick.firewallId) return "refused";
  }
  return pick.firewallId === null ? null : lookups.byId(db, target.accountId, pick.firewallId);
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

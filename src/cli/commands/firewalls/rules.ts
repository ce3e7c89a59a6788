import type { PiiCategory } from "../../../firewall/rules/schemas";
import type { Client } from "../../client";
import { CliError, UsageError } from "../../errors";

/** A rule as `firewalls.create` takes it. */
export type RuleInput = NonNullable<Parameters<Client["firewalls"]["create"]["mutate"]>[0]["rules"]>[number];
/** A rule before it has an id: from a flag, or from a file that left the id out. */
export type RuleDraft = Omit<RuleInput, "id"> & { id?: string };

export const RULE_FLAGS = ["block-injection", "flag-secrets", "block-secrets", "redact-secrets", "redact-pii", "deny", "regex", "max-chars"] as const;
export type RuleFlag = (typeof RULE_FLAGS)[number];
export type RegexAction = "block" | "redact" | "flag";

/** One rule flag as it appeared on the command line; their order is the rules' order. */
export interface RuleFlagUse {
  flag: RuleFlag;
  value?: string;
}

const PII_CATEGORIES = ["emails", "phones", "ibans", "cards"] as const satisfies readonly PiiCategory[];
const SECRET_FLAGS = { "flag-secrets": "flag", "block-secrets": "block", "redact-secrets": "redact" } as const;

/**
 * The convenience flags as rules, in the order they were given. Repeated
 * `--deny` terms make one deny list, placed where the first `--deny` was;
 * `--regex-action` applies to every `--regex`.
 */
export function rulesFromFlags(uses: RuleFlagUse[], regexAction?: RegexAction): RuleDraft[] {
  const secretFlags = [...new Set(uses.map((use) => use.flag).filter((flag) => flag in SECRET_FLAGS))];
  if (secretFlags.length > 1)
    throw new UsageError(`Use one of --flag-secrets, --block-secrets and --redact-secrets, not ${secretFlags.map((f) => `--${f}`).join(" and ")}.`);
  if (regexAction && !uses.some((use) => use.flag === "regex")) throw new UsageError("--regex-action needs --regex <pattern>.");

  const rules: RuleDraft[] = [];
  const once = new Set<RuleFlag>();
  let denied: string[] | undefined;
  for (const { flag, value } of uses) {
    if (flag === "deny") {
      if (!denied) {
        denied = [];
        rules.push({ kind: "deny_list", action: "block", options: { terms: denied } });
      }
      denied.push(value ?? "");
      continue;
    }
    if (flag === "regex") {
      rules.push({ kind: "regex", action: regexAction ?? "block", options: { pattern: value ?? "" } });
      continue;
    }
    // The other flags describe one rule each: saying one twice must not screen twice.
    if (once.has(flag)) continue;
    once.add(flag);
    if (flag === "block-injection") rules.push({ kind: "prompt_injection", action: "block" });
    else if (flag === "redact-pii") rules.push({ kind: "pii", action: "redact", options: { categories: piiCategories(value) } });
    else if (flag === "max-chars") rules.push({ kind: "length_limit", action: "block", options: { maxChars: Number(value) } });
    else rules.push({ kind: "secrets", action: SECRET_FLAGS[flag] });
  }
  return rules;
}

/** `--redact-pii` alone means every category; `--redact-pii emails,cards` only those. */
export function piiCategories(value: string | undefined): PiiCategory[] {
  if (value === undefined) return [...PII_CATEGORIES];
  const names = value
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const unknown = names.filter((name) => !(PII_CATEGORIES as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length) {
    const what = unknown.length ? `Unknown PII categor${unknown.length === 1 ? "y" : "ies"} '${unknown.join("', '")}'` : "No PII category given";
    throw new UsageError(`${what} for --redact-pii. Choose from ${PII_CATEGORIES.join(", ")} (a comma list), or leave it out for all of them.`);
  }
  return [...new Set(names)] as PiiCategory[];
}

/**
 * The rules of a `--rules` file: a JSON array of rules, or a firewall as
 * `qdz firewalls show --json` prints it (its `rules` are taken), so one
 * firewall can be copied into another. The server checks each rule.
 */
export function parseRulesFile(text: string, source: string): RuleDraft[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${source} is not JSON: ${(error as Error).message}`, "INVALID_INPUT");
  }
  const rules = isObject(value) && Array.isArray(value.rules) ? value.rules : value;
  if (!Array.isArray(rules)) {
    throw new CliError(`${source} must hold a JSON array of rules, such as [{"kind":"secrets","action":"redact"}].`, "INVALID_INPUT");
  }
  const notObject = rules.findIndex((rule) => !isObject(rule));
  if (notObject !== -1) throw new CliError(`Rule ${notObject + 1} in ${source} is not an object with "kind" and "action".`, "INVALID_INPUT");
  return rules as RuleDraft[];
}

/** Gives each rule without an id the first free `r1`, `r2`, … counting by position, never one a rule already has. */
export function withRuleIds(rules: RuleDraft[]): RuleInput[] {
  const taken = new Set(rules.map((rule) => rule.id).filter((id): id is string => typeof id === "string"));
  let next = 1;
  return rules.map((rule, index) => {
    if (typeof rule.id === "string") return rule as RuleInput;
    next = Math.max(next, index + 1);
    while (taken.has(`r${next}`)) next++;
    const id = `r${next++}`;
    taken.add(id);
    return { ...rule, id } as RuleInput;
  });
}

/**
 * The server names a refused rule by position ("Pattern of rule 2: …", src/validation-messages.ts);
 * people know it by id and kind ("Pattern of rule r2 (regex): …").
 */
export function nameRuleFields(message: string, rules: readonly { id?: string; kind?: string }[]): string {
  return message.replace(/\b([Rr]ule) (\d+)\b/g, (whole, word: string, position: string) => {
    const rule = rules[Number(position) - 1];
    if (!rule) return whole;
    return `${word} ${rule.id ?? position}${rule.kind ? ` (${rule.kind})` : ""}`;
  });
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

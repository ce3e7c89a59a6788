import type { Outputs, trpc } from "./trpc";

export type Firewall = Outputs["firewalls"]["get"];
export type FirewallItem = Outputs["firewalls"]["list"][number];
export type Rule = Firewall["rules"][number];
export type RuleKind = Rule["kind"];
export type RuleAction = Rule["action"];
export type FirewallEvent = Outputs["firewalls"]["events"]["events"][number];
export type PromptVerdict = Outputs["firewalls"]["test"];
type RuleInput = Parameters<typeof trpc.firewalls.create.mutate>[0]["rules"] extends (infer R)[] | undefined ? R : never;

export const piiCategories = { emails: "Email addresses", phones: "Phone numbers", ibans: "IBANs (checksum)", cards: "Card numbers (Luhn)" } as const;
export type PiiCategory = keyof typeof piiCategories;

interface KindInfo {
  label: string;
  /** One sentence: what the rule looks for. */
  description: string;
  actions: RuleAction[];
  defaultAction: RuleAction;
  /** The start of the rule ids this kind gets (`deny-list`, `deny-list-2`). */
  idPrefix: string;
}

export const ruleKinds: Record<RuleKind, KindInfo> = {
  prompt_injection: {
    label: "Prompt injection",
    description: "Catches phrasings that try to override the system prompt, such as “ignore all previous instructions”.",
    actions: ["block", "redact", "flag"],
    defaultAction: "block",
    idPrefix: "prompt-injection",
  },
  secrets: {
    label: "Secrets and API keys",
    description: "Finds common key formats (cloud, payment and code-hosting tokens) and private key blocks.",
    actions: ["block", "redact", "flag"],
    defaultAction: "redact",
    idPrefix: "secrets",
  },
  pii: {
    label: "Personal data",
    description: "Finds email addresses, phone numbers, IBANs with a valid checksum and card numbers that pass Luhn.",
    actions: ["block", "redact", "flag"],
    defaultAction: "redact",
    idPrefix: "pii",
  },
  deny_list: {
    label: "Deny list",
    description: "Matches the terms you list as whole words, ignoring case.",
    actions: ["block", "redact", "flag"],
    defaultAction: "block",
    idPrefix: "deny-list",
  },
  regex: {
    label: "Custom pattern",
    description: "Matches your own regular expression in RE2 syntax, in time linear in the prompt; lookaround and backreferences are refused when you save.",
    actions: ["block", "redact", "flag"],
    defaultAction: "flag",
    idPrefix: "regex",
  },
  length_limit: {
    label: "Length limit",
    description: "Stops prompts longer than a number of characters or with more messages than a limit.",
    actions: ["block", "flag"],
    defaultAction: "block",
    idPrefix: "length-limit",
  },
};

export const ruleActions: Record<RuleAction, { label: string; description: string; badge: string }> = {
  block: { label: "Block", description: "Refuse the request with a 400 naming this rule.", badge: "badge-error" },
  redact: { label: "Redact", description: "Replace each match, then forward.", badge: "badge-info" },
  flag: { label: "Flag", description: "Forward unchanged and record an event.", badge: "badge-warning" },
};

/** A rule as the editor holds it: every kind's options side by side, numbers as typed. */
export interface RuleDraft {
  /** Local only: keys the list while rules move. */
  key: number;
  id: string;
  kind: RuleKind;
  action: RuleAction;
  terms: string[];
  categories: PiiCategory[];
  pattern: string;
  caseInsensitive: boolean;
  maxChars: string;
  maxMessages: string;
}

let nextKey = 1;

function blankDraft(kind: RuleKind, id: string, action: RuleAction): RuleDraft {
  return {
    key: nextKey++,
    id,
    kind,
    action,
    terms: [],
    categories: ["emails", "phones", "ibans", "cards"],
    pattern: "",
    caseInsensitive: true,
    maxChars: "",
    maxMessages: "",
  };
}

export function draftOf(rule: Rule): RuleDraft {
  const draft = blankDraft(rule.kind, rule.id, rule.action);
  if (rule.kind === "deny_list") draft.terms = [...rule.options.terms];
  if (rule.kind === "pii") draft.categories = [...rule.options.categories];
  if (rule.kind === "regex") Object.assign(draft, { pattern: rule.options.pattern, caseInsensitive: rule.options.caseInsensitive });
  if (rule.kind === "length_limit")
    Object.assign(draft, { maxChars: String(rule.options.maxChars ?? ""), maxMessages: String(rule.options.maxMessages ?? "") });
  return draft;
}

/** A new rule of `kind`, with an id no other rule of the firewall uses (events and block messages name it). */
export function newDraft(kind: RuleKind, rules: RuleDraft[]): RuleDraft {
  const taken = new Set(rules.map((r) => r.id));
  const prefix = ruleKinds[kind].idPrefix;
  let id = prefix;
  for (let n = 2; taken.has(id); n++) id = `${prefix}-${n}`;
  return blankDraft(kind, id, ruleKinds[kind].defaultAction);
}

const positive = (value: string) => (value.trim() === "" ? undefined : Number(value.trim()));

export function ruleInput(draft: RuleDraft): RuleInput {
  const { id, action } = draft;
  switch (draft.kind) {
    case "prompt_injection":
    case "secrets":
      return { id, action, kind: draft.kind, options: {} };
    case "pii":
      return { id, action, kind: "pii", options: { categories: draft.categories } };
    case "deny_list":
      return { id, action, kind: "deny_list", options: { terms: draft.terms } };
    case "regex":
      return { id, action, kind: "regex", options: { pattern: draft.pattern, caseInsensitive: draft.caseInsensitive } };
    case "length_limit":
      return {
        id,
        action: action === "redact" ? "block" : action,
        kind: "length_limit",
        options: { maxChars: positive(draft.maxChars), maxMessages: positive(draft.maxMessages) },
      };
  }
}

/** What the browser can tell before saving; the server checks the rest (a pattern RE2 cannot read, a duplicate id). */
export function draftProblems(draft: RuleDraft): Record<string, string> {
  const problems: Record<string, string> = {};
  if (draft.kind === "deny_list" && draft.terms.length === 0) problems.terms = "Add at least one term.";
  if (draft.kind === "pii" && draft.categories.length === 0) problems.categories = "Pick at least one kind of personal data.";
  if (draft.kind === "regex" && draft.pattern.trim() === "") problems.pattern = "Enter a pattern.";
  if (draft.kind === "length_limit") {
    for (const field of ["maxChars", "maxMessages"] as const) {
      const value = positive(draft[field]);
      if (value !== undefined && !(Number.isInteger(value) && value > 0)) problems[field] = "Enter a whole number above zero.";
    }
    if (draft.maxChars.trim() === "" && draft.maxMessages.trim() === "") problems.maxChars = "Set a character limit, a message limit or both.";
  }
  return problems;
}

/**
 * The server's messages for rules (`rules.2.options.pattern`), placed next to the rule and option
 * each names: by rule index, then by field.
 */
export function ruleErrorsOf(issues: readonly { path: string; message: string }[]): Record<number, Record<string, string>> {
  const errors: Record<number, Record<string, string>> = {};
  for (const { path, message } of issues) {
    // A rule refused as a whole (no field) is left to the form's alert.
    const match = /^rules\.(\d+)\.([\w.]+)$/.exec(path);
    if (!match) continue;
    const [, index, rest] = match;
    const segments = rest!.split(".");
    const field = segments[0] === "options" ? (segments[1] ?? "options") : segments[0]!;
    errors[Number(index)] ??= {};
    errors[Number(index)]![field] ??= message;
  }
  return errors;
}

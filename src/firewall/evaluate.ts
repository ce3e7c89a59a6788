import { type CustomScan, findCustom, type Unscreened } from "./rules/custom-regex";
import { findDenied } from "./rules/deny-list";
import { findPii } from "./rules/pii";
import { findPromptInjection } from "./rules/prompt-injection";
import { ScanBudget, type ScanLimits, scanLimits } from "./rules/scan-budget";
import type { Rule, RuleAction, RuleKind } from "./rules/schemas";
import { findSecrets } from "./rules/secrets";
import { mergeSpans, type Span } from "./rules/spans";

/** One piece of prompt text and where it sits in the request body (`messages[2].content[0].text`). */
export interface PromptText {
  field: string;
  text: string;
}

export interface PromptTexts {
  texts: PromptText[];
  /** Messages (chat), prompts (completions) or inputs (embeddings): what `maxMessages` limits. */
  messageCount: number;
}

export interface FiredRule {
  ruleId: string;
  kind: RuleKind;
  action: RuleAction;
  matches: number;
  /** The field that matched; `*` for a length limit, which judges the prompt as a whole. */
  field: string;
  /**
   * A custom pattern that could not read all of the prompt: the prompt's budget
   * ran out at `field`, or the pattern, saved before custom patterns were RE2,
   * cannot run now. See `evaluate` for what then happens.
   */
  unscreened?: Unscreened;
}

export type Outcome = "allow" | "block" | "redact" | "flag";

export interface Evaluation {
  outcome: Outcome;
  /** In rule order; on a block, the last entry is the blocking rule. */
  fired: FiredRule[];
  /** The texts after redaction, same order as the input; null when blocked. */
  redactedTexts: PromptText[] | null;
}

type TextRule = Exclude<Rule, { kind: "length_limit" }>;

function spansFor(rule: Exclude<TextRule, { kind: "regex" }>, text: string): Span[] {
  switch (rule.kind) {
    case "prompt_injection":
      return findPromptInjection(text);
    case "secrets":
      return findSecrets(text);
    case "pii":
      return findPii(text, rule.options.categories);
    case "deny_list":
      return findDenied(text, rule.options.terms);
  }
}

function redact(text: string, spans: Span[], kind: RuleKind): string {
  let out = "";
  let cursor = 0;
  for (const span of spans) {
    out += `${text.slice(cursor, span.start)}[REDACTED:${kind}]`;
    cursor = span.end;
  }
  return out + text.slice(cursor);
}

function lengthExceeded(rule: Extract<Rule, { kind: "length_limit" }>, prompt: PromptTexts, texts: PromptText[]): boolean {
  const { maxChars, maxMessages } = rule.options;
  if (maxMessages !== undefined && prompt.messageCount > maxMessages) return true;
  if (maxChars === undefined) return false;
  let chars = 0;
  for (const { text } of texts) chars += text.length;
  return chars > maxChars;
}

/**
 * Runs the rules in order over the prompt's texts. A blocking rule stops
 * everything and is named; a redacting rule rewrites the texts the rules after
 * it see (so a redacted key cannot fire again as something else); a flagging
 * rule only records. The outcome is the strongest action that fired.
 *
 * A custom pattern that cannot read all of the prompt (its budget ran out,
 * or its pattern does not compile) fails safe and says so (`unscreened`):
 * a blocking rule blocks, a redacting rule blocks too (it cannot redact what
 * it did not read, and forwarding that text could leak it), a flagging rule
 * flags, once. The built-in rules still run: their patterns are fixed.
 */
export function evaluate(rules: readonly Rule[], prompt: PromptTexts, limits: ScanLimits = scanLimits): Evaluation {
  const texts = prompt.texts.map((t) => ({ ...t }));
  const fired: FiredRule[] = [];
  // Shared by the custom patterns; its clock starts with the first window they read.
  const budget = new ScanBudget(limits);
  for (const rule of rules) {
    if (rule.kind === "length_limit") {
      if (!lengthExceeded(rule, prompt, texts)) continue;
      fired.push({ ruleId: rule.id, kind: rule.kind, action: rule.action, matches: 1, field: "*" });
      if (rule.action === "block") return { outcome: "block", fired, redactedTexts: null };
      continue;
    }
    for (const entry of texts) {
      const found: CustomScan = rule.kind === "regex" ? findCustom(entry.text, rule.options, budget) : { spans: spansFor(rule, entry.text) };
      const spans = mergeSpans(found.spans);
      if (found.unscreened) {
        const action = rule.action === "flag" ? "flag" : "block";
        fired.push({ ruleId: rule.id, kind: rule.kind, action, matches: spans.length, field: entry.field, unscreened: found.unscreened });
        if (action === "block") return { outcome: "block", fired, redactedTexts: null };
        break;
      }
      if (spans.length === 0) continue;
      fired.push({ ruleId: rule.id, kind: rule.kind, action: rule.action, matches: spans.length, field: entry.field });
      if (rule.action === "block") return { outcome: "block", fired, redactedTexts: null };
      if (rule.action === "redact") entry.text = redact(entry.text, spans, rule.kind);
    }
  }
  const outcome: Outcome = fired.some((f) => f.action === "redact") ? "redact" : fired.length > 0 ? "flag" : "allow";
  return { outcome, fired, redactedTexts: texts };
}

import type { Outputs } from "../../client";
import { formatTime, renderFields, renderTable } from "../../output";

export type Firewall = Outputs["firewalls"]["get"];
export type FirewallRow = Outputs["firewalls"]["list"][number];
export type Rule = Firewall["rules"][number];
export type Verdict = Outputs["firewalls"]["test"];
export type FiredRule = Verdict["fired"][number];
export type EventsPage = Outputs["firewalls"]["events"];

const MAX_TERMS_SHOWN = 3;

export function renderFirewallTable(rows: FirewallRow[]): string {
  return renderTable(
    ["id", "name", "rules", "attached to", "created"],
    rows.map((row) => [row.id, row.name, String(row.rules.length), row.instanceIds.join(", ") || "-", formatTime(row.createdAt)]),
  );
}

/** A firewall's fields, then its rules in the order they run. */
export function renderFirewall(firewall: Firewall): string {
  const fields: [string, string][] = [
    ["id", firewall.id],
    ["name", firewall.name],
    ["description", firewall.description ?? "-"],
    ["attached to", firewall.instanceIds.join(", ") || "no instance"],
    ["prompt text in events", firewall.storePromptText ? "kept (an excerpt)" : "not kept"],
    ["created", formatTime(firewall.createdAt)],
    ["updated", formatTime(firewall.updatedAt)],
  ];
  const rules = firewall.rules.length
    ? renderTable(
        ["#", "id", "kind", "action", "options"],
        firewall.rules.map((rule, index) => [String(index + 1), rule.id, rule.kind, rule.action, ruleOptions(rule)]),
      )
    : "No rules: every prompt goes through.";
  return `${renderFields(fields)}\n\nRules, in the order they run:\n${rules}`;
}

/** A rule's options in a few words. */
export function ruleOptions(rule: Rule): string {
  switch (rule.kind) {
    case "prompt_injection":
    case "secrets":
      return "-";
    case "pii":
      return rule.options.categories.join(", ");
    case "deny_list": {
      const { terms } = rule.options;
      const shown = terms.slice(0, MAX_TERMS_SHOWN).map((term) => JSON.stringify(term));
      const more = terms.length > MAX_TERMS_SHOWN ? `, … (${terms.length} terms)` : "";
      return `${shown.join(", ")}${more}`;
    }
    case "regex":
      return `/${rule.options.pattern}/${rule.options.caseInsensitive ? "i" : ""} (windows of ${rule.options.maxInputChars} chars)`;
    case "length_limit": {
      const { maxChars, maxMessages } = rule.options;
      return [maxChars !== undefined && `at most ${maxChars} chars`, maxMessages !== undefined && `at most ${maxMessages} messages`].filter(Boolean).join(", ");
    }
  }
}

/** The "test this prompt" answer: the outcome in one line, the rules that fired, and the text as it would be forwarded. */
export function renderVerdict(verdict: Verdict): string {
  const lines = [summary(verdict)];
  if (verdict.fired.length) {
    lines.push(
      "",
      renderTable(
        ["rule", "kind", "action", "field", "matches"],
        verdict.fired.map((fired) => [fired.ruleId, fired.kind, fired.action, fieldName(fired.field), String(fired.matches)]),
      ),
    );
  }
  if (verdict.outcome === "redact" && verdict.redactedText !== null) lines.push("", "Forwarded as:", verdict.redactedText);
  return lines.join("\n");
}

function summary(verdict: Verdict): string {
  const flagged = verdict.fired.filter((fired) => fired.action === "flag").map((fired) => fired.ruleId);
  const flagNote = flagged.length ? `; flagged by ${flagged.join(", ")}` : "";
  switch (verdict.outcome) {
    case "allow":
      return "Allowed: no rule fired.";
    case "block": {
      // The evaluation stops at the blocking rule: it is the last one that fired.
      const blocker = verdict.fired.at(-1)!;
      return `Blocked by rule ${blocker.ruleId} (${blocker.kind}) in ${fieldName(blocker.field)}.`;
    }
    case "redact": {
      const redacting = verdict.fired.filter((fired) => fired.action === "redact").map((fired) => fired.ruleId);
      return `Allowed after redaction by ${redacting.join(", ")}${flagNote}.`;
    }
    case "flag":
      return `Allowed${flagNote}.`;
  }
}

/** `*` is how a length limit says it judged the prompt as a whole. */
const fieldName = (field: string) => (field === "*" ? "the whole prompt" : field);

export function renderEvents(page: EventsPage): string {
  if (page.events.length === 0) return "No blocks or flags recorded.";
  return renderTable(
    ["time", "action", "rule", "kind", "field", "matches", "instance"],
    page.events.map((event) => [
      formatTime(event.at),
      event.action,
      event.ruleId,
      event.ruleKind,
      fieldName(event.field),
      String(event.matches),
      event.instanceId ?? "-",
    ]),
  );
}

import type { Outputs } from "./trpc.ts";

export type AuditEvent = Outputs["audit"]["list"]["events"][number];
export type AuditActor = Outputs["audit"]["actors"][number];

/** The Activity filter's kinds, by subject: the api accepts a subject (`instance`) for all of its kinds. */
export const kindGroups: { value: string; label: string }[] = [
  { value: "session", label: "Sign-ins" },
  { value: "account", label: "Account" },
  { value: "member", label: "Members and invites" },
  { value: "api_key", label: "API keys" },
  { value: "instance", label: "Instances" },
  { value: "firewall", label: "Firewalls" },
  { value: "schedule", label: "Schedules" },
  { value: "budget", label: "Budgets" },
  { value: "webhook", label: "Webhook endpoint" },
  { value: "billing", label: "Top-ups and adjustments" },
];

/** `ada@example.com`, `Key qdz_Ab12cdEF · full`, `Schedule sch_…`, `Platform`. */
export function actorName(actor: { kind: string; label: string | null; scope?: string | null }): string {
  if (actor.kind === "user") return actor.label ?? "A removed user";
  if (actor.kind === "api_key") return `Key ${actor.label ?? ""}${actor.scope ? ` · ${actor.scope}` : ""}`;
  if (actor.kind === "schedule") return `Schedule ${actor.label ?? ""}`;
  return "Platform";
}

/** What the filter sends for an actor: the email or key prefix, or the kind for the platform. */
export const actorFilterValue = (actor: AuditActor): string => actor.label ?? actor.kind;

/** "instance.settings_changed" → "Instance settings changed". */
export function kindLabel(kind: string): string {
  const words = kind.replace(".", " ").replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** One line per changed field: `state: running → stopping`, `name: guard` for a field only set. */
export function changeLines(event: AuditEvent): string[] {
  const before = event.changes.before ?? {};
  const after = event.changes.after ?? {};
  const shown = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].map((field) => {
    if (!(field in before)) return `${field}: ${shown(after[field])}`;
    if (!(field in after)) return `${field} was ${shown(before[field])}`;
    return `${field}: ${shown(before[field])} → ${shown(after[field])}`;
  });
}

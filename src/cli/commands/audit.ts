import type { Command } from "commander";
import { auditEventJson } from "../../audit/json";
import { action } from "../action";
import type { Outputs } from "../client";
import type { CliContext } from "../context";
import { formatTime, renderTable } from "../output";
import { wholeNumber } from "./instances/launch-options";

type Page = Outputs["audit"]["list"];
type AuditEvent = Page["events"][number];

interface ListOptions {
  actor?: string;
  kind?: string;
  limit?: number;
  cursor?: string;
}

export function auditCommands(program: Command): void {
  program
    .command("audit")
    .description("the account's audit trail: who changed what, newest first (owners see everyone's; members their own and their keys')")
    .option("--actor <who>", "only this actor: an email, an API key's prefix (qdz_…), a schedule rule id, or 'system'")
    // The api names the kinds when one is unknown: the CLI keeps no copy of the list.
    .option("--kind <kind>", "only this kind (instance.stopped) or every kind about a subject (instance)")
    .option("--limit <n>", "rows per page, 1 to 200 (default: 50)", wholeNumber(1, 200))
    .option("--cursor <cursor>", "the next page, as the previous page's hint gives it")
    .action(action(list));
}

async function list(cli: CliContext, options: ListOptions) {
  const page = await cli.signedIn().audit.list.query({ actor: options.actor, kind: options.kind, limit: options.limit, cursor: options.cursor });
  cli.out.result({ data: page.events.map(auditEventJson), next_cursor: page.nextCursor }, () => render(page, options));
  if (page.nextCursor) cli.out.note(`More: ${nextPageCommand(options, page.nextCursor)}`);
}

function render(page: Page, options: ListOptions): string {
  if (page.events.length === 0) return options.cursor ? "No more activity." : options.actor || options.kind ? "No activity matches." : "No activity yet.";
  const rows = page.events.map((event) => [formatTime(event.at), actorOf(event), event.kind, event.subjectId ?? "-", changesOf(event)]);
  return renderTable(["time", "actor", "kind", "subject", "changes"], rows);
}

/** `ada@example.com`, `key qdz_Ab12cdEF (full)`, `schedule sch_…`, `system`. */
export function actorOf(event: AuditEvent): string {
  const { kind, label, scope } = event.actor;
  if (kind === "user") return label ?? "a removed user";
  if (kind === "api_key") return `key ${label ?? event.actor.id}${scope ? ` (${scope})` : ""}`;
  if (kind === "schedule") return `schedule ${label}`;
  return "system";
}

/** `state: running → stopping, name: a → b`; fields only after (a creation) read `name=a`. */
export function changesOf(event: AuditEvent): string {
  const before = event.changes.before ?? {};
  const after = event.changes.after ?? {};
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return fields
    .map((field) => {
      if (!(field in before)) return `${field}=${shown(after[field])}`;
      if (!(field in after)) return `${field} was ${shown(before[field])}`;
      return `${field}: ${shown(before[field])} → ${shown(after[field])}`;
    })
    .join(", ");
}

const shown = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

function nextPageCommand(options: ListOptions, cursor: string): string {
  const flags = [
    options.actor && `--actor ${options.actor}`,
    options.kind && `--kind ${options.kind}`,
    options.limit && `--limit ${options.limit}`,
    `--cursor ${cursor}`,
  ];
  return ["qdz audit", ...flags.filter(Boolean)].join(" ");
}

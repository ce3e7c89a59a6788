import type { CliContext } from "../../context";
import { renderEvents, renderFirewall, renderFirewallTable } from "./render";

export async function list(cli: CliContext) {
  const firewalls = await cli.signedIn().firewalls.list.query();
  cli.out.result(firewalls, (rows) =>
    rows.length === 0 ? "No firewalls yet. Create one with `qdz firewalls create <name> --block-injection --redact-secrets`." : renderFirewallTable(rows),
  );
}

export async function show(cli: CliContext, id: string) {
  const firewall = await cli.signedIn().firewalls.get.query({ id });
  cli.out.result(firewall, renderFirewall);
}

interface EventsFlags {
  limit?: number;
  cursor?: number;
}

/** The blocks and flags a firewall recorded, newest first; redactions went through and are not recorded. */
export async function events(cli: CliContext, firewallId: string, flags: EventsFlags) {
  const page = await cli.signedIn().firewalls.events.query({ firewallId, limit: flags.limit, cursor: flags.cursor });
  cli.out.result(page, renderEvents);
  if (page.nextCursor !== null) {
    const limit = flags.limit === undefined ? "" : ` --limit ${flags.limit}`;
    cli.out.note(`More events: qdz firewalls events ${firewallId}${limit} --cursor ${page.nextCursor}`);
  }
}

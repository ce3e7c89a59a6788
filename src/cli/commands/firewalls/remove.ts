import { confirm, isCancel } from "@clack/prompts";
import type { CliContext } from "../../context";
import { CliError, UsageError } from "../../errors";
import { canPrompt } from "../../input";

export async function remove(cli: CliContext, id: string, options: { yes?: boolean }) {
  // Asked before anything is sent: a script without --yes gets a usage error, never a deletion.
  if (!options.yes && !canPrompt()) throw new UsageError("Deleting a firewall cannot be undone: pass --yes to confirm (prompts need a terminal).");
  const client = cli.signedIn();
  if (!options.yes) {
    const firewall = await client.firewalls.get.query({ id });
    const attached = firewall.instanceIds.length
      ? ` It is attached to ${firewall.instanceIds.join(", ")}: their prompts go through unscreened afterwards.`
      : "";
    const answer = await confirm({ message: `Delete firewall '${firewall.name}' (${id})?${attached}`, initialValue: false, output: process.stderr });
    if (isCancel(answer) || !answer) throw new CliError("Cancelled; nothing was deleted.", "CANCELLED");
  }
  await client.firewalls.delete.mutate({ id });
  cli.out.result({ ok: true, id }, () => `Deleted firewall ${id}. Instances it was attached to now forward prompts unscreened; its events are kept.`);
}

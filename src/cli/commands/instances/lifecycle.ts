import { confirm, isCancel } from "@clack/prompts";
import type { CliContext } from "../../context";
import { CliError, UsageError } from "../../errors";
import { canPrompt } from "../../input";
import { withTopUpHint } from "./launch";
import { renderBulk, renderRunning } from "./render";
import { waitForInstance } from "./wait";

interface WaitOptions {
  wait?: boolean;
  timeout: number;
}

export async function start(cli: CliContext, id: string, options: WaitOptions) {
  const client = cli.signedIn();
  const pending = await client.instances.start.mutate({ id }).catch((error) => {
    throw withTopUpHint(error, cli.url);
  });
  if (!options.wait) {
    cli.out.result(pending, (instance) => `Starting ${instance.id} on a new pod: ${instance.state}.`);
    cli.out.note(`Follow it with \`qdz instances show ${id}\`, or start with --wait to wait until it runs.`);
    return;
  }
  cli.out.note(`Starting ${id} on a new pod; waiting until it runs (Ctrl-C stops waiting, not the instance).`);
  const running = await waitForInstance(cli, client, id, "running", options.timeout);
  cli.out.result(running, (detail) => renderRunning(detail, cli.url));
}

/** One id stops that instance (refused if it cannot stop); several are stopped together, and those that cannot stop are reported. */
export async function stop(cli: CliContext, ids: string[], options: WaitOptions) {
  const client = cli.signedIn();
  if (ids.length === 1) {
    const stopping = await client.instances.stop.mutate({ id: ids[0]! });
    if (!options.wait) {
      cli.out.result(stopping, (instance) => `Stopping ${instance.id}: its pod is being released and billing ends.`);
      return;
    }
    const stopped = await waitForInstance(cli, client, stopping.id, "stopped", options.timeout);
    cli.out.result(stopped, (instance) => `Stopped ${instance.id}. \`qdz instances start ${instance.id}\` starts it again on a new pod.`);
    return;
  }
  const result = await client.instances.stopMany.mutate({ ids });
  if (options.wait) {
    for (const id of result.changed) await waitForInstance(cli, client, id, "stopped", options.timeout);
  }
  cli.out.result(result, (bulk) => renderBulk(bulk, { changed: options.wait ? "Stopped" : "Stopping", none: "Nothing to stop" }));
}

export async function remove(cli: CliContext, ids: string[], options: { yes?: boolean }) {
  // Asked before anything is sent: a script without --yes gets a usage error, never a deletion.
  if (!options.yes && !canPrompt()) {
    throw new UsageError(
      `Deleting ${ids.length === 1 ? "an instance" : `${ids.length} instances`} cannot be undone: pass --yes to confirm (prompts need a terminal).`,
    );
  }
  const client = cli.signedIn();
  if (!options.yes) {
    const instances = await Promise.all(ids.map((id) => client.instances.get.query({ id })));
    const live = instances.filter((instance) => ["pending", "running", "stopping"].includes(instance.state));
    const names = instances.map((instance) => `${instance.id}${instance.name ? ` (${instance.name})` : ""}`).join(", ");
    const warning = live.length
      ? ` ${live.length === 1 ? "It is" : `${live.length} of them are`} live: the pod is stopped first, and billed time is not refunded.`
      : "";
    const answer = await confirm({ message: `Delete ${names}?${warning}`, initialValue: false, output: process.stderr });
    if (isCancel(answer) || !answer) throw new CliError("Cancelled; nothing was deleted.", "CANCELLED");
  }
  const result = ids.length === 1 ? await client.instances.delete.mutate({ id: ids[0]! }) : await client.instances.deleteMany.mutate({ ids });
  cli.out.result(result, (bulk) => renderBulk(bulk, { changed: "Deleted", none: "Nothing deleted" }));
}

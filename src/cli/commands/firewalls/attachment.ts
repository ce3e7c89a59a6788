import type { CliContext } from "../../context";

/** An instance has at most one firewall: attaching replaces the one it had. */
export async function attach(cli: CliContext, firewallId: string, instanceId: string) {
  const attached = await cli.signedIn().firewalls.attach.mutate({ instanceId, firewallId });
  cli.out.result(attached, (result) => `Attached firewall ${result.firewallId} to ${result.instanceId}: its prompts are screened from now on.`);
}

export async function detach(cli: CliContext, instanceId: string) {
  const detached = await cli.signedIn().firewalls.attach.mutate({ instanceId, firewallId: null });
  cli.out.result(detached, (result) => `${result.instanceId} has no firewall now: its prompts go through unscreened.`);
}

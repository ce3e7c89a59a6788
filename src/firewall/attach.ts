import { eq } from "drizzle-orm";
import { instanceFirewalls } from "../../db/schema";
import type { AccountContext } from "../context";
import { firewallOf, instanceOf } from "./internal";
import { firewallLookups } from "./lookup";
import { type AttachFirewallInput, attachFirewallInput } from "./schemas";

/** Puts a firewall in front of an instance (replacing any other), or takes it away with `firewallId: null`. */
export async function attachFirewall(ctx: AccountContext, input: AttachFirewallInput) {
  const { instanceId, firewallId } = attachFirewallInput.parse(input);
  await instanceOf(ctx, instanceId);
  if (firewallId === null) {
    await ctx.db.delete(instanceFirewalls).where(eq(instanceFirewalls.instanceId, instanceId));
  } else {
    await firewallOf(ctx, firewallId);
    await ctx.db
      .insert(instanceFirewalls)
      .values({ instanceId, firewallId })
      .onConflictDoUpdate({ target: instanceFirewalls.instanceId, set: { firewallId, createdAt: new Date() } });
  }
  firewallLookups.invalidateInstance(instanceId);
  return { instanceId, firewallId };
}

import { eq } from "drizzle-orm";
import { instanceFirewalls } from "../../db/schema";
import { recordAudit } from "../audit/record";
import { type AccountContext, withTransaction } from "../context";
import { firewallOf, instanceOf } from "./internal";
import { firewallLookups } from "./lookup";
import { type AttachFirewallInput, attachFirewallInput } from "./schemas";

/** Puts a firewall in front of an instance (replacing any other), or takes it away with `firewallId: null`. */
export async function attachFirewall(ctx: AccountContext, input: AttachFirewallInput) {
  const { instanceId, firewallId } = attachFirewallInput.parse(input);
  await withTransaction(ctx.db, async (tx) => {
    const scoped = { ...ctx, db: tx };
    await instanceOf(scoped, instanceId);
    const [current] = await tx.select().from(instanceFirewalls).where(eq(instanceFirewalls.instanceId, instanceId)).for("update");
    if (firewallId === null) {
      await tx.delete(instanceFirewalls).where(eq(instanceFirewalls.instanceId, instanceId));
    } else {
      await firewallOf(scoped, firewallId);
      await tx
        .insert(instanceFirewalls)
        .values({ instanceId, firewallId })
        .onConflictDoUpdate({ target: instanceFirewalls.instanceId, set: { firewallId, createdAt: new Date() } });
    }
    const kind = firewallId === null ? "firewall.detached" : "firewall.attached";
    await recordAudit(scoped, { kind, subjectId: instanceId, changes: { before: { firewallId: current?.firewallId ?? null }, after: { firewallId } } });
  });
  firewallLookups.invalidateAccount(ctx.accountId);
  return { instanceId, firewallId };
}

import { desc, eq, inArray } from "drizzle-orm";
import { firewalls, instanceFirewalls } from "../../db/schema";
import type { AccountContext } from "../context";
import { firewallOf } from "./internal";
import { withRules } from "./stored";

/** The account's firewalls, newest first, each with the instances it is attached to. */
export async function listFirewalls(ctx: AccountContext) {
  const rows = await ctx.db.select().from(firewalls).where(eq(firewalls.accountId, ctx.accountId)).orderBy(desc(firewalls.createdAt));
  const attachments = rows.length
    ? await ctx.db
        .select()
        .from(instanceFirewalls)
        .where(
          inArray(
            instanceFirewalls.firewallId,
            rows.map((r) => r.id),
          ),
        )
    : [];
  return rows.map((row) => ({ ...withRules(row), instanceIds: attachments.filter((a) => a.firewallId === row.id).map((a) => a.instanceId) }));
}

export async function getFirewall(ctx: AccountContext, id: string) {
  const row = await firewallOf(ctx, id);
  const attachments = await ctx.db.select().from(instanceFirewalls).where(eq(instanceFirewalls.firewallId, id));
  return { ...row, instanceIds: attachments.map((a) => a.instanceId) };
}

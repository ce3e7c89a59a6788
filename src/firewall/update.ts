import { and, eq } from "drizzle-orm";
import { firewalls } from "../../db/schema";
import type { AccountContext } from "../context";
import { NotFoundError } from "../errors";
import { firewallLookups } from "./lookup";
import { type UpdateFirewallInput, updateFirewallInput } from "./schemas";
import { withRules } from "./stored";

export async function updateFirewall(ctx: AccountContext, input: UpdateFirewallInput) {
  const { id, ...changes } = updateFirewallInput.parse(input);
  const [row] = await ctx.db
    .update(firewalls)
    .set({ ...changes, updatedAt: new Date() })
    .where(and(eq(firewalls.id, id), eq(firewalls.accountId, ctx.accountId)))
    .returning();
  if (!row) throw new NotFoundError("Firewall", id);
  firewallLookups.invalidateFirewall(id);
  return withRules(row);
}

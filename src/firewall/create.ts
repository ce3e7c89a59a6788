import { firewalls } from "../../db/schema";
import type { AccountContext } from "../context";
import { newId } from "../ids";
import { type CreateFirewallInput, createFirewallInput } from "./schemas";
import { withRules } from "./stored";

export async function createFirewall(ctx: AccountContext, input: CreateFirewallInput) {
  const parsed = createFirewallInput.parse(input);
  const [row] = await ctx.db
    .insert(firewalls)
    .values({ id: newId("firewall"), accountId: ctx.accountId, ...parsed, description: parsed.description ?? null })
    .returning();
  return withRules(row!);
}

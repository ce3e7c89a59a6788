import { and, eq, isNull } from "drizzle-orm";
import { firewalls, instances } from "../../db/schema";
import type { AccountContext } from "../context";
import { NotFoundError } from "../errors";
import { withRules } from "./stored";

/** The account's firewall, or NotFound (also for another account's id). */
export async function firewallOf(ctx: AccountContext, id: string) {
  const [row] = await ctx.db
    .select()
    .from(firewalls)
    .where(and(eq(firewalls.id, id), eq(firewalls.accountId, ctx.accountId)));
  if (!row) throw new NotFoundError("Firewall", id);
  return withRules(row);
}

/** The account's live instance id, or NotFound. */
export async function instanceOf(ctx: AccountContext, id: string): Promise<string> {
  const [row] = await ctx.db
    .select({ id: instances.id })
    .from(instances)
    .where(and(eq(instances.id, id), eq(instances.accountId, ctx.accountId), isNull(instances.deletedAt)));
  if (!row) throw new NotFoundError("Instance", id);
  return row.id;
}

/** A firewall as the audit trail records it: its settings and how many rules, not the rules' patterns and texts. */
export function auditedFields(row: typeof firewalls.$inferSelect) {
  return { name: row.name, description: row.description, rules: row.rules.length, storePromptText: row.storePromptText };
}

import { and, eq } from "drizzle-orm";
import { firewalls } from "../../db/schema";
import type { AccountContext } from "../context";
import { NotFoundError } from "../errors";
import { firewallLookups } from "./lookup";

/** Deleting a firewall detaches it from its instances (cascade); its events stay, without the link. */
export async function deleteFirewall(ctx: AccountContext, id: string) {
  const removed = await ctx.db
    .delete(firewalls)
    .where(and(eq(firewalls.id, id), eq(firewalls.accountId, ctx.accountId)))
    .returning({ id: firewalls.id });
  if (removed.length === 0) throw new NotFoundError("Firewall", id);
  firewallLookups.invalidateFirewall(id);
}

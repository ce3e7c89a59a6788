import { and, eq } from "drizzle-orm";
import { firewalls } from "../../db/schema";
import { recordAudit } from "../audit/record";
import { type AccountContext, withTransaction } from "../context";
import { NotFoundError } from "../errors";
import { auditedFields } from "./internal";
import { firewallLookups } from "./lookup";

/** Deleting a firewall detaches it from its instances (cascade); its events stay, without the link. */
export async function deleteFirewall(ctx: AccountContext, id: string) {
  await withTransaction(ctx.db, async (tx) => {
    const [removed] = await tx
      .delete(firewalls)
      .where(and(eq(firewalls.id, id), eq(firewalls.accountId, ctx.accountId)))
      .returning();
    if (!removed) throw new NotFoundError("Firewall", id);
    await recordAudit({ ...ctx, db: tx }, { kind: "firewall.deleted", subjectId: id, changes: { before: auditedFields(removed) } });
  });
  firewallLookups.invalidateAccount(ctx.accountId);
}

import { and, eq } from "drizzle-orm";
import { firewalls } from "../../db/schema";
import { recordAudit } from "../audit/record";
import { type AccountContext, withTransaction } from "../context";
import { NotFoundError } from "../errors";
import { auditedFields } from "./internal";
import { firewallLookups } from "./lookup";
import { type UpdateFirewallInput, updateFirewallInput } from "./schemas";
import { withRules } from "./stored";

export async function updateFirewall(ctx: AccountContext, input: UpdateFirewallInput) {
  const { id, ...changes } = updateFirewallInput.parse(input);
  const row = await withTransaction(ctx.db, async (tx) => {
    const where = and(eq(firewalls.id, id), eq(firewalls.accountId, ctx.accountId));
    const [before] = await tx.select().from(firewalls).where(where).for("update");
    if (!before) throw new NotFoundError("Firewall", id);
    const [after] = await tx
      .update(firewalls)
      .set({ ...changes, updatedAt: new Date() })
      .where(where)
      .returning();
    await recordAudit(
      { ...ctx, db: tx },
      { kind: "firewall.updated", subjectId: id, changes: { before: auditedFields(before), after: auditedFields(after!) } },
    );
    return after!;
  });
  firewallLookups.invalidateAccount(ctx.accountId);
  return withRules(row);
}

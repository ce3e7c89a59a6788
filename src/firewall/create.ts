import { firewalls } from "../../db/schema";
import { recordAudit } from "../audit/record";
import { type AccountContext, withTransaction } from "../context";
import { newId } from "../ids";
import { auditedFields } from "./internal";
import { type CreateFirewallInput, createFirewallInput } from "./schemas";
import { withRules } from "./stored";

export async function createFirewall(ctx: AccountContext, input: CreateFirewallInput) {
  const parsed = createFirewallInput.parse(input);
  return withTransaction(ctx.db, async (tx) => {
    const [row] = await tx
      .insert(firewalls)
      .values({ id: newId("firewall"), accountId: ctx.accountId, ...parsed, description: parsed.description ?? null })
      .returning();
    await recordAudit({ ...ctx, db: tx }, { kind: "firewall.created", subjectId: row!.id, changes: { after: auditedFields(row!) } });
    return withRules(row!);
  });
}

import { eq } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { accounts } from "../../db/schema";
import { balanceSummary } from "../billing/grace";
import { postEntry } from "../billing/ledger";
import { ConflictError, NotFoundError } from "../errors";
import type { Person } from "./role";
import type { AdjustmentInput } from "./schemas";

export interface OperatorContext {
  db: Executor;
  operator: Person;
  requestId?: string;
  graceWindowHours: number;
}

/**
 * Posts an `adjustment` to an account's ledger through its one writer: the entry's description names the
 * operator and the reason, and its audit row (written by postEntry in the same transaction) names the operator
 * as the actor. Idempotent by the client's reference: a retry returns the first entry; the same reference with
 * another amount is refused rather than silently answered with the first.
 */
export async function postAdjustment(ctx: OperatorContext, input: AdjustmentInput) {
  const [exists] = await ctx.db.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, input.accountId));
  if (!exists) throw new NotFoundError("Account", input.accountId);
  const posted = await postEntry(ctx.db, {
    accountId: input.accountId,
    kind: "adjustment",
    amountCents: input.amountCents,
    reference: input.reference,
    description: `Adjustment by ${ctx.operator.email}: ${input.reason}`,
    actor: { kind: "user", userId: ctx.operator.userId },
    requestId: ctx.requestId,
  });
  if (!posted.created && posted.entry.amountCents !== input.amountCents) {
    throw new ConflictError(`The reference ${input.reference} was already used for another adjustment.`, "reference");
  }
  // The account's state after it, so the Operator page can update its row (grace may have started or ended).
  const account = await balanceSummary(ctx.db, input.accountId, ctx.graceWindowHours);
  return { entry: posted.entry, created: posted.created, balanceCents: posted.balanceCents, grace: account.grace };
}

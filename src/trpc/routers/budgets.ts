import { listBudgets, removeBudget, setBudgetAndWatch } from "../../spend/budgets";
import { budgetScope, setBudgetInput } from "../../spend/schemas";
import { accountProcedure, router } from "../init";

export const budgetsRouter = router({
  /** The account's budget and its instances', each with this UTC month's spend. */
  list: accountProcedure.query(({ ctx }) => listBudgets(ctx.account)),
  set: accountProcedure.input(setBudgetInput).mutation(({ ctx, input }) => setBudgetAndWatch(ctx.account, ctx.jobs, input)),
  remove: accountProcedure.input(budgetScope).mutation(async ({ ctx, input }) => {
    await removeBudget(ctx.account, input);
    return { ok: true };
  }),
});

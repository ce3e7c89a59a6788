import { listBudgets, removeBudget, setBudget } from "../../spend/budgets";
import { budgetScope, setBudgetInput } from "../../spend/schemas";
import { accountProcedure, router } from "../init";

export const budgetsRouter = router({
  /** The account's budget and its instances', each with this UTC month's spend. */
  list: accountProcedure.query(({ ctx }) => listBudgets(ctx.account)),
  set: accountProcedure.input(setBudgetInput).mutation(async ({ ctx, input }) => {
    const budget = await setBudget(ctx.account, input);
    // Look now rather than at the next tick: a budget set below this month's spend acts at once.
    await ctx.jobs.send("spend.watch", {});
    return budget;
  }),
  remove: accountProcedure.input(budgetScope).mutation(async ({ ctx, input }) => {
    await removeBudget(ctx.account, input);
    return { ok: true };
  }),
});

import { z } from "zod";
import { createRules, deleteRule, listRules, previewRule, scheduleHistory, updateRule } from "../../schedules/rules";
import { createRulesInput, historyInput, previewInput, updateRuleInput } from "../../schedules/schemas";
import { safeString } from "../../validation";
import { accountProcedure, router } from "../init";

const id = z.object({ id: safeString().min(1).max(64) });

export const schedulesRouter = router({
  /** An instance's rules, with their words, next three runs and last execution. */
  list: accountProcedure.input(z.object({ instanceId: safeString().min(1).max(64) })).query(({ ctx, input }) => listRules(ctx.account, input.instanceId)),
  /** The form's live check: the rule in words and its next runs, or the error naming the field. */
  preview: accountProcedure.input(previewInput).query(({ input }) => previewRule(input)),
  /** One rule, or a preset's start and stop rules together. */
  create: accountProcedure.input(createRulesInput).mutation(({ ctx, input }) => createRules(ctx.account, input.instanceId, input.rules)),
  update: accountProcedure.input(updateRuleInput).mutation(({ ctx, input }) => {
    const { id: ruleId, ...patch } = input;
    return updateRule(ctx.account, ruleId, patch);
  }),
  remove: accountProcedure.input(id).mutation(async ({ ctx, input }) => {
    await deleteRule(ctx.account, input.id);
    return { ok: true };
  }),
  history: accountProcedure.input(historyInput).query(({ ctx, input }) => scheduleHistory(ctx.account, input.instanceId, input)),
});

import { attachFirewall } from "../../firewall/attach";
import { createFirewall } from "../../firewall/create";
import { listFirewallEvents } from "../../firewall/events";
import { getFirewall, listFirewalls } from "../../firewall/list";
import { deleteFirewall } from "../../firewall/remove";
import { attachFirewallInput, createFirewallInput, firewallIdInput, listEventsInput, testPromptInput, updateFirewallInput } from "../../firewall/schemas";
import { testPrompt } from "../../firewall/test-prompt";
import { updateFirewall } from "../../firewall/update";
import { accountProcedure, router } from "../init";

export const firewallsRouter = router({
  list: accountProcedure.query(({ ctx }) => listFirewalls(ctx.account)),
  get: accountProcedure.input(firewallIdInput).query(({ ctx, input }) => getFirewall(ctx.account, input.id)),
  create: accountProcedure.input(createFirewallInput).mutation(({ ctx, input }) => createFirewall(ctx.account, input)),
  update: accountProcedure.input(updateFirewallInput).mutation(({ ctx, input }) => updateFirewall(ctx.account, input)),
  delete: accountProcedure.input(firewallIdInput).mutation(async ({ ctx, input }) => {
    await deleteFirewall(ctx.account, input.id);
    return { ok: true };
  }),
  attach: accountProcedure.input(attachFirewallInput).mutation(({ ctx, input }) => attachFirewall(ctx.account, input)),
  // A query-like check, but a mutation: the prompt text belongs in a body, not in a GET's URL and logs.
  test: accountProcedure.input(testPromptInput).mutation(({ ctx, input }) => testPrompt(ctx.account, input)),
  events: accountProcedure.input(listEventsInput).query(({ ctx, input }) => listFirewallEvents(ctx.account, input)),
});

import { accountUsage } from "../../usage/account";
import { instanceUsage } from "../../usage/instance";
import { accountUsageInput, instanceUsageInput } from "../../usage/schemas";
import { accountProcedure, router } from "../init";
import { resourcesProcedure } from "./usage-resources";

/** Cost and active time per bucket, from what metering billed: queries, so an API key with 'read' may call them. */
export const usageRouter = router({
  /** The Usage tab of one instance of the caller's account. */
  instance: accountProcedure.input(instanceUsageInput).query(({ ctx, input }) => instanceUsage(ctx.account, input)),
  /** The account's Usage page: every instance, stacked by the top ones. */
  account: accountProcedure.input(accountUsageInput).query(({ ctx, input }) => accountUsage(ctx.account, input)),
  /** The Usage tab's resource charts (src/usage/resources.ts, its own file). */
  resources: resourcesProcedure,
});

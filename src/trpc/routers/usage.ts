import { z } from "zod";
import { accountUsage } from "../../usage/account";
import { instanceUsage } from "../../usage/instance";
import { instanceResources } from "../../usage/resources";
import { accountUsageInput, instanceUsageInput } from "../../usage/schemas";
import { safeString } from "../../validation";
import { accountProcedure, router } from "../init";

/** Cost and active time per bucket, from what metering billed, and the pods' resources: queries, so an API key with 'read' may call them. */
export const usageRouter = router({
  /** The Usage tab of one instance of the caller's account. */
  instance: accountProcedure.input(instanceUsageInput).query(({ ctx, input }) => instanceUsage(ctx.account, input)),
  /** The account's Usage page: every instance, stacked by the top ones. */
  account: accountProcedure.input(accountUsageInput).query(({ ctx, input }) => accountUsage(ctx.account, input)),
  /** The Usage tab's resource charts: the last 24 h of the pod's samples, a point per minute. */
  resources: accountProcedure
    .input(z.object({ instanceId: safeString().min(1).max(64) }))
    .query(({ ctx, input }) => instanceResources(ctx.account, { instanceId: input.instanceId })),
});

import { z } from "zod";
import { instanceResources } from "../../usage/resources";
import { safeString } from "../../validation";
import { accountProcedure } from "../init";

/** `usage.resources`: the Usage tab's resource charts, the last 24 h of the pod's samples a point per minute (a read: 'read' keys may call it). */
export const resourcesProcedure = accountProcedure
  .input(z.object({ instanceId: safeString().min(1).max(64) }))
  .query(({ ctx, input }) => instanceResources(ctx.account, { instanceId: input.instanceId }));

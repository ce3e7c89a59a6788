import { listDeliveries } from "../../webhooks/deliveries";
import { getEndpoint, removeEndpoint, rotateSecret, setEndpoint } from "../../webhooks/endpoints";
import { redeliver } from "../../webhooks/redeliver";
import { deliveryIdInput, listDeliveriesInput, setEndpointInput } from "../../webhooks/schemas";
import { sendTestDelivery } from "../../webhooks/send-test";
import { webhookUrlPolicy } from "../../webhooks/url-policy";
import { accountProcedure, router } from "../init";

export const webhooksRouter = router({
  get: accountProcedure.query(({ ctx }) => getEndpoint(ctx.account)),
  set: accountProcedure.input(setEndpointInput).mutation(({ ctx, input }) => setEndpoint(ctx.account, input, webhookUrlPolicy(ctx.config))),
  remove: accountProcedure.mutation(async ({ ctx }) => {
    await removeEndpoint(ctx.account);
    return { ok: true };
  }),
  rotateSecret: accountProcedure.mutation(({ ctx }) => rotateSecret(ctx.account)),
  sendTest: accountProcedure.mutation(({ ctx }) => sendTestDelivery(ctx.account, ctx.jobs)),
  deliveries: accountProcedure.input(listDeliveriesInput).query(({ ctx, input }) => listDeliveries(ctx.account, input)),
  redeliver: accountProcedure.input(deliveryIdInput).mutation(({ ctx, input }) => redeliver(ctx.account, ctx.jobs, input.id)),
});

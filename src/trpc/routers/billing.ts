import { z } from "zod";
import { createCheckout, getCheckout, topUpLimits } from "../../billing/checkout";
import { completeDevCheckout } from "../../billing/dev-checkout";
import { DevGateway } from "../../billing/gateway";
import { balanceSummary } from "../../billing/grace";
import { listLedger } from "../../billing/ledger";
import { ledgerKinds } from "../../billing/schemas";
import { NotFoundError } from "../../errors";
import { accountRunway } from "../../metering/runway";
import { checkoutReturnLinks } from "../../public-links";
import { safeString } from "../../validation";
import { accountProcedure, router } from "../init";

export const billingRouter = router({
  /** Balance, grace state, the live burn rate and the runway at it, and the gateway in use (the web app labels the development gateway). */
  balance: accountProcedure.query(async ({ ctx }) => {
    const [summary, runway] = await Promise.all([
      balanceSummary(ctx.db, ctx.account.accountId, ctx.config.GRACE_WINDOW_HOURS),
      accountRunway(ctx.account, { minRunwayHours: ctx.config.MIN_RUNWAY_HOURS }),
    ]);
    // The runway's balance last: the one its forecast was measured from.
    return {
      ...summary,
      ...runway,
      minRunwayHours: ctx.config.MIN_RUNWAY_HOURS,
      currency: "eur" as const,
      gateway: ctx.gateway.kind,
      topUpLimits: topUpLimits(ctx.config),
    };
  }),

  ledger: accountProcedure
    .input(
      z.object({
        limit: z.number().int().min(1).max(200).default(25),
        cursor: safeString().max(200).nullish(),
        kind: z.enum(ledgerKinds).optional(),
        instanceId: safeString().max(64).optional(),
      }),
    )
    .query(({ ctx, input }) => listLedger(ctx.db, ctx.account.accountId, input)),

  /**
   * The web app and the CLI open checkouts here; the payment returns to the web app at PUBLIC_URL, whichever host the
   * caller reached the api on (scripts that want their own return pages use POST /billing/checkout).
   */
  createCheckout: accountProcedure
    .input(z.object({ amountCents: z.number().int() }))
    .mutation(({ ctx, input }) =>
      createCheckout(ctx.account, ctx.gateway, { amountCents: input.amountCents, ...checkoutReturnLinks(ctx.config.PUBLIC_URL) }, topUpLimits(ctx.config)),
    ),

  checkout: accountProcedure.input(z.object({ id: safeString().min(1).max(200) })).query(async ({ ctx, input }) => {
    const checkout = await getCheckout(ctx.account, input.id);
    return { id: checkout.id, status: checkout.status, amountCents: checkout.amountCents, gateway: checkout.gateway, createdAt: checkout.createdAt };
  }),

  /** The development gateway's confirm page: only there while no Stripe keys are set. */
  completeDevCheckout: accountProcedure.input(z.object({ id: safeString().min(1).max(200), outcome: z.enum(["pay", "cancel"]) })).mutation(({ ctx, input }) => {
    if (!(ctx.gateway instanceof DevGateway)) throw new NotFoundError("Development checkout", input.id);
    return completeDevCheckout(ctx.account, ctx.gateway, ctx.deliverWebhook, input.id, input.outcome);
  }),
});

import { resolvePaymentReview } from "../../billing/payment-reviews";
import { listAccounts } from "../../operator/accounts";
import { postAdjustment } from "../../operator/adjust";
import { openPaymentReviews, podsByProvider, providerHealth, queueDepths } from "../../operator/overview";
import { accountsPageInput, adjustmentInput, resolveReviewInput } from "../../operator/schemas";
import { operatorProcedure, router } from "../init";

/** The platform as a whole, for its operators: never scoped to the caller's account. */
export const operatorRouter = router({
  providers: operatorProcedure.query(({ ctx }) => providerHealth(ctx.providers)),

  pods: operatorProcedure.query(({ ctx }) => podsByProvider(ctx.db)),

  queues: operatorProcedure.query(({ ctx }) => queueDepths(ctx.boss)),

  paymentReviews: operatorProcedure.query(({ ctx }) => openPaymentReviews(ctx.db)),

  resolvePaymentReview: operatorProcedure.input(resolveReviewInput).mutation(({ ctx, input }) => resolvePaymentReview(ctx.db, input.id)),

  accounts: operatorProcedure.input(accountsPageInput).query(({ ctx, input }) => listAccounts(ctx.db, input, ctx.config.GRACE_WINDOW_HOURS)),

  adjust: operatorProcedure
    .input(adjustmentInput)
    .mutation(({ ctx, input }) =>
      postAdjustment({ db: ctx.db, operator: ctx.operator, requestId: ctx.requestId, graceWindowHours: ctx.config.GRACE_WINDOW_HOURS }, input),
    ),
});

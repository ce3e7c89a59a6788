import { and, eq } from "drizzle-orm";
import { checkoutSessions } from "../../db/schema";
import type { Config } from "../config";
import type { AccountContext } from "../context";
import { InvalidInputError, NotFoundError } from "../errors";
import type { PaymentGateway } from "./gateway";

export interface CheckoutRequestInput {
  amountCents: number;
  successUrl: string;
  cancelUrl: string;
}

export interface TopUpLimits {
  minCents: number;
  maxCents: number;
}

export const topUpLimits = (config: Config): TopUpLimits => ({ minCents: config.TOPUP_MIN_CENTS, maxCents: config.TOPUP_MAX_CENTS });

/** Opens a checkout at the gateway; the balance changes only when the gateway confirms (webhook). */
export async function createCheckout(ctx: AccountContext, gateway: PaymentGateway, input: CheckoutRequestInput, limits: TopUpLimits) {
  if (input.amountCents < limits.minCents || input.amountCents > limits.maxCents) {
    const eur = (cents: number) => (cents / 100).toFixed(2);
    throw new InvalidInputError(`A top-up must be between ${eur(limits.minCents)} € and ${eur(limits.maxCents)} €.`, "amount_cents");
  }
  const session = await gateway.createCheckout({ accountId: ctx.accountId, ...input });
  await ctx.db.insert(checkoutSessions).values({
    id: session.id,
    accountId: ctx.accountId,
    gateway: gateway.kind,
    amountCents: input.amountCents,
    currency: "eur",
    url: session.url,
    successUrl: input.successUrl,
    cancelUrl: input.cancelUrl,
  });
  return session;
}

/** A checkout of the caller's account (for the dev gateway's page and `qdz topup --wait`). */
export async function getCheckout(ctx: AccountContext, id: string) {
  const [session] = await ctx.db
    .select()
    .from(checkoutSessions)
    .where(and(eq(checkoutSessions.id, id), eq(checkoutSessions.accountId, ctx.accountId)));
  if (!session) throw new NotFoundError("Checkout session", id);
  return session;
}

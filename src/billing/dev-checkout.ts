import { and, eq } from "drizzle-orm";
import { checkoutSessions } from "../../db/schema";
import type { AccountContext } from "../context";
import { ConflictError } from "../errors";
import { randomBase62 } from "../ids";
import { getCheckout } from "./checkout";
import type { DevGateway } from "./gateway";

/** Sends a signed webhook body to the platform's own webhook route; resolves to the HTTP status. */
export type WebhookDelivery = (payload: string, signature: string) => Promise<number>;

/**
 * The development gateway's "Pay" and "Cancel" buttons. Paying builds the
 * `checkout.session.completed` event Stripe would send, signs it, and
 * delivers it to /webhooks/stripe: the credit happens there, as in production.
 */
export async function completeDevCheckout(
  ctx: AccountContext,
  gateway: DevGateway,
  deliver: WebhookDelivery,
  id: string,
  outcome: "pay" | "cancel",
): Promise<{ redirectTo: string }> {
  const checkout = await getCheckout(ctx, id);
  if (checkout.gateway !== "dev") throw new ConflictError("This checkout is paid at Stripe, not here.");
  // Stripe fills {CHECKOUT_SESSION_ID} in the success URL; the stand-in does the same.
  const successUrl = checkout.successUrl.replaceAll("{CHECKOUT_SESSION_ID}", checkout.id);
  if (checkout.status === "paid") return { redirectTo: successUrl };
  if (checkout.status === "canceled") throw new ConflictError("This checkout was canceled. Start a new top-up.");

  if (outcome === "cancel") {
    await ctx.db
      .update(checkoutSessions)
      .set({ status: "canceled", completedAt: new Date() })
      .where(and(eq(checkoutSessions.id, id), eq(checkoutSessions.status, "open")));
    return { redirectTo: checkout.cancelUrl };
  }

  const payload = JSON.stringify({
    id: `evt_dev_${randomBase62(24)}`,
    object: "event",
    type: "checkout.session.completed",
    api_version: null,
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    data: {
      object: {
        id: checkout.id,
        object: "checkout.session",
        mode: "payment",
        status: "complete",
        payment_status: "paid",
        amount_total: checkout.amountCents,
        currency: checkout.currency,
        client_reference_id: checkout.accountId,
        metadata: { account_id: checkout.accountId },
      },
    },
  });
  const status = await deliver(payload, await gateway.sign(payload));
  if (status < 200 || status >= 300) throw new Error(`The webhook refused the development gateway's event (HTTP ${status}).`);
  return { redirectTo: successUrl };
}

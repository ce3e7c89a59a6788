import Stripe from "stripe";
import type { Config } from "../config";
import { randomBase62 } from "../ids";

export interface CheckoutRequest {
  accountId: string;
  amountCents: number;
  successUrl: string;
  cancelUrl: string;
}

/**
 * Where top-ups are paid: Stripe Checkout, or the development gateway when
 * no Stripe keys are set. Both sign their confirmations in Stripe's scheme
 * and both are verified by the `stripe` SDK, so the webhook has one code path.
 */
export interface PaymentGateway {
  kind: "stripe" | "dev";
  createCheckout(request: CheckoutRequest): Promise<{ id: string; url: string }>;
  /** Verifies `stripe-signature` over the raw body; throws Stripe's signature error on forgery. */
  verifyEvent(rawBody: string, signature: string): Promise<Stripe.Event>;
}

export function gatewayFor(config: Config): PaymentGateway {
  return config.STRIPE_SECRET_KEY && config.STRIPE_WEBHOOK_SECRET
    ? new StripeGateway(config.STRIPE_SECRET_KEY, config.STRIPE_WEBHOOK_SECRET, config.STRIPE_API_URL)
    : new DevGateway(config.PUBLIC_URL, config.DEV_GATEWAY_WEBHOOK_SECRET);
}

export class StripeGateway implements PaymentGateway {
  readonly kind = "stripe";
  private readonly stripe: Stripe;

  constructor(
    secretKey: string,
    private readonly webhookSecret: string,
    apiUrl?: string,
  ) {
    const api = apiUrl ? new URL(apiUrl) : undefined;
    this.stripe = new Stripe(secretKey, {
      maxNetworkRetries: 2,
      ...(api && { host: api.hostname, port: api.port || undefined, protocol: api.protocol.replace(":", "") as "http" | "https" }),
    });
  }

  async createCheckout(request: CheckoutRequest) {
    const session = await this.stripe.checkout.sessions.create({
      mode: "payment",
      currency: "eur",
      line_items: [
        {
          quantity: 1,
          price_data: { currency: "eur", unit_amount: request.amountCents, product_data: { name: "QDivZero Compute credit" } },
        },
      ],
      client_reference_id: request.accountId,
      metadata: { account_id: request.accountId },
      success_url: request.successUrl,
      cancel_url: request.cancelUrl,
    });
    if (!session.url) throw new Error(`Stripe returned checkout session ${session.id} without a URL`);
    return { id: session.id, url: session.url };
  }

  verifyEvent(rawBody: string, signature: string) {
    return this.stripe.webhooks.constructEventAsync(rawBody, signature, this.webhookSecret);
  }
}

/**
 * Stands in for Stripe on a machine without keys: its checkout URL is a page
 * of this server where the user confirms or cancels, and confirming sends a
 * signed `checkout.session.completed` to the same webhook route.
 */
export class DevGateway implements PaymentGateway {
  readonly kind = "dev";
  // The SDK's webhook helpers need an instance; no request ever leaves with this key.
  private readonly stripe = new Stripe("sk_test_development_gateway_offline");

  constructor(
    private readonly publicUrl: string,
    private readonly webhookSecret: string,
  ) {}

  async createCheckout(_request: CheckoutRequest) {
    const id = `cs_dev_${randomBase62(24)}`;
    return { id, url: `${this.publicUrl}/dev-checkout/${id}` };
  }

  verifyEvent(rawBody: string, signature: string) {
    return this.stripe.webhooks.constructEventAsync(rawBody, signature, this.webhookSecret);
  }

  /** Signs an event the way Stripe does (`t=…,v1=HMAC-SHA256`). */
  async sign(payload: string): Promise<string> {
    return this.stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: this.webhookSecret });
  }
}

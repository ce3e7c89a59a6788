import Stripe from "stripe";
import type { Config } from "../config";
import { randomBase62 } from "../ids";
import { devCheckoutLink } from "../public-links";

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
  /**
   * Verifies `stripe-signature` over the raw body and its timestamp against
   * this server's clock; throws an error naming the reason. It only vouches
   * for the bytes: reading the event is the webhook's job (schema-checked).
   */
  verifySignature(rawBody: string, signature: string): Promise<void>;
}

/** How far a signature's timestamp may be from this server's clock, either way (Stripe's own default for the past). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/**
 * Both gateways sign in Stripe's scheme and verify through the SDK. The SDK
 * refuses timestamps older than the tolerance but accepts any in the future
 * (and a `t=` that is not a number), which would let a captured delivery be
 * replayed long after: that side is bounded here, on this server's clock.
 */
async function verifyStripeSignature(stripe: Stripe, rawBody: string, signature: string, secret: string, now = Date.now()) {
  const helper = stripe.webhooks.signature;
  if (!helper) throw new Error("The stripe SDK has no signature helper.");
  await helper.verifyHeaderAsync(rawBody, signature, secret, SIGNATURE_TOLERANCE_SECONDS, undefined, now);
  const signedAt = signatureTimestamp(signature);
  if (!Number.isSafeInteger(signedAt)) throw new Error("The signature's timestamp is not a number.");
  const ahead = signedAt - Math.floor(now / 1000);
  if (ahead > SIGNATURE_TOLERANCE_SECONDS) {
    throw new Error(`The signature's timestamp is ${ahead} s ahead of this server's clock; at most ${SIGNATURE_TOLERANCE_SECONDS} s is accepted.`);
  }
}

/** The `t=` of a Stripe-Signature header, read as the SDK reads it: the last one, through parseInt. */
function signatureTimestamp(header: string): number {
  let timestamp = Number.NaN;
  for (const item of header.split(",")) {
    const [key, value] = item.split("=");
    if (key === "t") timestamp = Number.parseInt(value ?? "", 10);
  }
  return timestamp;
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

  verifySignature(rawBody: string, signature: string) {
    return verifyStripeSignature(this.stripe, rawBody, signature, this.webhookSecret);
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
    return { id, url: devCheckoutLink(this.publicUrl, id) };
  }

  verifySignature(rawBody: string, signature: string) {
    return verifyStripeSignature(this.stripe, rawBody, signature, this.webhookSecret);
  }

  /** Signs an event the way Stripe does (`t=…,v1=HMAC-SHA256`). */
  async sign(payload: string): Promise<string> {
    return this.stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: this.webhookSecret });
  }
}

/**
 * Stripe swaps this template for the session id when it redirects to the
 * success URL; the development gateway's page swaps it the same way. So the
 * success page learns which checkout to watch without the app holding state
 * across the trip to the gateway.
 */
export const CHECKOUT_SESSION_ID = "{CHECKOUT_SESSION_ID}";

/** Where the gateway sends the person back: the success page to watch the credit land, or Billing with a notice. */
export function checkoutUrls(origin: string) {
  return {
    // Built by hand: URLSearchParams would encode the braces, and Stripe matches the template literally.
    successUrl: `${origin}/billing/top-up/success?session_id=${CHECKOUT_SESSION_ID}`,
    cancelUrl: `${origin}/billing?top_up=canceled`,
  };
}

/** The gateway's redirect with the template filled in, as Stripe would have done. */
export function withSessionId(url: string, id: string): string {
  return url.replaceAll(CHECKOUT_SESSION_ID, id).replaceAll(encodeURIComponent(CHECKOUT_SESSION_ID), id);
}

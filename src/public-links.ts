/**
 * Every link the platform hands out — a checkout, the pages a payment returns to, an invite — is built
 * here from PUBLIC_URL, never from the host a request came in on. A session cookie belongs to one host:
 * a checkout opened at `localhost` that returns to `127.0.0.1` lands signed out, and the top-up is lost.
 */

/** Stripe swaps this template for the session id when it redirects to the success page; the development gateway does the same. */
export const CHECKOUT_SESSION_ID = "{CHECKOUT_SESSION_ID}";

/** The development gateway's page for one checkout (Stripe's hosted page stands here without keys). */
export function devCheckoutLink(publicUrl: string, checkoutId: string): string {
  return `${publicUrl}/dev-checkout/${encodeURIComponent(checkoutId)}`;
}

/** Where a payment sends the person back: the success page watches the credit land, Billing says it was canceled. */
export function checkoutReturnLinks(publicUrl: string): { successUrl: string; cancelUrl: string } {
  return {
    // Built by hand: URLSearchParams would encode the braces, and Stripe matches the template literally.
    successUrl: `${publicUrl}/billing/top-up/success?session_id=${CHECKOUT_SESSION_ID}`,
    cancelUrl: `${publicUrl}/billing?top_up=canceled`,
  };
}

/** The link an owner passes on; whoever opens it signs in or up and joins the account. */
export function inviteLink(publicUrl: string, token: string): string {
  return `${publicUrl}/invite/${encodeURIComponent(token)}`;
}

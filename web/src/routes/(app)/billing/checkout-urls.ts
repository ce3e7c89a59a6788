import { CHECKOUT_SESSION_ID } from "../../../../../src/public-links";

// The api builds the return pages (src/public-links.ts); the success page only needs to recognise an unfilled template.
export { CHECKOUT_SESSION_ID };

/** The gateway's redirect with the template filled in, as Stripe would have done. */
export function withSessionId(url: string, id: string): string {
  return url.replaceAll(CHECKOUT_SESSION_ID, id).replaceAll(encodeURIComponent(CHECKOUT_SESSION_ID), id);
}

import { Elysia } from "elysia";
import type { Services } from "../server/services";
import { handleWebhook } from "../src/billing/webhook";
import { readBodyWithin } from "../src/request-body";
import { rest } from "./rest";

/** A Stripe event is a few KiB; unauthenticated until its signature is checked, so nothing larger is read. */
export const STRIPE_EVENT_MAX_BYTES = 64 * 1024;

/** Stripe's webhook (and the development gateway's, which signs the same way). */
export function webhookRoutes(services: Services) {
  return new Elysia({ name: "webhooks" }).post(
    "/webhooks/stripe",
    ({ request }) =>
      rest(async () => {
        // The signature covers the exact bytes: read the raw body, never a re-serialised parse.
        const raw = new TextDecoder().decode(await readBodyWithin(request, STRIPE_EVENT_MAX_BYTES));
        const outcome = await handleWebhook(services.db, services.gateway, raw, request.headers.get("stripe-signature"));
        return { received: true, outcome };
      }),
    { parse: "none" },
  );
}

import { Elysia } from "elysia";
import { handleWebhook } from "../src/billing/webhook";
import type { Services } from "../server/services";
import { rest } from "./rest";

/** Stripe's webhook (and the development gateway's, which signs the same way). */
export function webhookRoutes(services: Services) {
  return new Elysia({ name: "webhooks" }).post(
    "/webhooks/stripe",
    ({ request }) =>
      rest(async () => {
        // The signature covers the exact bytes: read the raw body, never a re-serialised parse.
        const raw = await request.text();
        const outcome = await handleWebhook(services.db, services.gateway, raw, request.headers.get("stripe-signature"));
        return { received: true, outcome };
      }),
    { parse: "none" },
  );
}

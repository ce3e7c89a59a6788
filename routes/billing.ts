import { Elysia } from "elysia";
import type { Services } from "../server/services";
import type { ApiKeyScope } from "../src/auth/scopes";
import { constantTimeEqual } from "../src/auth/secrets";
import { createCheckout, topUpLimits } from "../src/billing/checkout";
import { balanceSummary } from "../src/billing/grace";
import { listLedger } from "../src/billing/ledger";
import { ledgerEntryJson } from "../src/billing/ledger-json";
import { checkoutInput, debitInput, ledgerQuery } from "../src/billing/schemas";
import { ForbiddenError, UnauthenticatedError } from "../src/errors";
import { accountRunway } from "../src/metering/runway";
import { accountUsage } from "../src/usage/account";
import { instanceUsage } from "../src/usage/instance";
import { usageJson } from "../src/usage/json";
import { postInstanceEntry } from "../src/usage/rollup";
import { usageRestQuery } from "../src/usage/schemas";
import { authenticate, jsonBody, parseWith, rest } from "./rest";

/** A checkout (an amount and two URLs) or a debit fits in well under this; anything larger is refused unread. */
export const BILLING_MAX_BODY_BYTES = 16 * 1024;

/** Billing REST for scripts and the scheduler, in the Billing document's snake_case. */
export function billingRoutes(services: Services) {
  const { db, config } = services;
  // Reading the balance and ledger needs a key with 'read'; opening a checkout changes the account: 'full'.
  const auth = (request: Request, scope: ApiKeyScope, requestId: string) => authenticate(db, request, config.PUBLIC_URL, scope, services.keyUsage, requestId);

  const checkout = ({ request }: { request: Request }) =>
    rest(async (requestId) => {
      const ctx = await auth(request, "full", requestId);
      const input = await jsonBody(request, checkoutInput, BILLING_MAX_BODY_BYTES);
      return createCheckout(
        ctx,
        services.gateway,
        { amountCents: input.amount_cents, successUrl: input.success_url, cancelUrl: input.cancel_url },
        topUpLimits(config),
      );
    });

  return (
    new Elysia({ name: "billing" })
      .get("/billing/balance", ({ request }) =>
        rest(async (requestId) => {
          const ctx = await auth(request, "read", requestId);
          const [summary, runway] = await Promise.all([
            balanceSummary(db, ctx.accountId, config.GRACE_WINDOW_HOURS),
            accountRunway(ctx, { minRunwayHours: config.MIN_RUNWAY_HOURS }),
          ]);
          // The same body as `qdz balance --json`.
          return {
            balance_cents: summary.balanceCents,
            currency: "eur",
            grace: { active: summary.grace.active, started_at: summary.grace.startedAt, ends_at: summary.grace.endsAt },
            burn_rate_cents_per_hour: runway.burnRateCentsPerHour,
            running_instances: runway.runningInstances,
            runway_seconds: runway.runwaySeconds,
            low_runway: runway.lowRunway,
          };
        }),
      )
      .get("/billing/ledger", ({ request }) =>
        rest(async (requestId) => {
          const ctx = await auth(request, "read", requestId);
          const query = parseWith(ledgerQuery, Object.fromEntries(new URL(request.url).searchParams));
          const page = await listLedger(db, ctx.accountId, { ...query, instanceId: query.instance_id });
          return { data: page.entries.map(ledgerEntryJson), next_cursor: page.nextCursor };
        }),
      )
      // The account's usage, or one instance's with instance_id: the same body as `qdz usage --json`.
      .get("/billing/usage", ({ request }) =>
        rest(async (requestId) => {
          const ctx = await auth(request, "read", requestId);
          const query = parseWith(usageRestQuery, Object.fromEntries(new URL(request.url).searchParams));
          const input = { range: query.range, timeZone: query.time_zone };
          return usageJson(query.instance_id ? await instanceUsage(ctx, { ...input, instanceId: query.instance_id }) : await accountUsage(ctx, input));
        }),
      )
      .post("/billing/checkout", checkout, { parse: "none" })
      // The path the Billing document's curl example uses.
      .post("/v1/billing/checkout", checkout, { parse: "none" })
      .post(
        "/billing/debit",
        ({ request }) =>
          rest(async () => {
            requireSchedulerCredential(request, config.BILLING_INTERNAL_TOKEN);
            const input = await jsonBody(request, debitInput, BILLING_MAX_BODY_BYTES);
            // A debit naming one of the account's instances counts in its usage, as the tick's debits do.
            const posted = await postInstanceEntry(db, {
              accountId: input.account_id,
              kind: "debit",
              amountCents: -input.amount_cents,
              reference: input.reference,
              instanceId: input.instance_id,
              description: input.description,
            });
            return { entry: ledgerEntryJson(posted.entry), created: posted.created, balance_cents: posted.balanceCents };
          }),
        { parse: "none" },
      )
  );
}

/** Only the scheduler's own secret may debit; a user's API key or session never can. */
function requireSchedulerCredential(request: Request, token: string | undefined) {
  const presented = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  if (!presented) throw new UnauthenticatedError("This endpoint needs the scheduler's credential.");
  if (!token || !constantTimeEqual(presented, token)) {
    throw new ForbiddenError("This endpoint is internal: only the scheduler's credential may call it.");
  }
}

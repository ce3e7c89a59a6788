import { join } from "node:path";
import { Elysia } from "elysia";
import type { Sql } from "postgres";
import { AGENT_REPORT_MAX_BYTES, agentRoutes } from "../routes/agent";
import { BILLING_MAX_BODY_BYTES, billingRoutes } from "../routes/billing";
import { healthRoutes } from "../routes/health";
import { countedServeRoutes, httpMetrics, metricsRoutes } from "../routes/metrics";
import { errorResponse } from "../routes/rest";
import { restApiRoutes } from "../routes/rest-api";
import { REST_MAX_BODY_BYTES } from "../routes/rest-operations";
import { trpcRoutes } from "../routes/trpc";
import { v1Routes, v1ServeRoutes } from "../routes/v1";
import { webRoutes } from "../routes/web";
import { STRIPE_EVENT_MAX_BYTES, webhookRoutes } from "../routes/webhooks";
import { gatewayFor } from "../src/billing/gateway";
import { type Config, projectRoot } from "../src/config";
import { firewallLookups } from "../src/firewall/lookup";
import { newRequestId } from "../src/ids";
import { HeartbeatBatcher } from "../src/instances/heartbeats";
import { noJobQueue } from "../src/jobs/queue";
import { CacheBus } from "../src/platform/cache-bus";
import { databaseGauges } from "../src/platform/database-gauges";
import { ProxyCache } from "../src/proxy/cache";
import { proxyDeps } from "../src/proxy/proxy";
import type { Services } from "./services";

export const webBuildDir = join(projectRoot, "web", "build");

export type AppServices = Omit<Services, "gateway" | "deliverWebhook" | "heartbeats" | "jobs" | "providers"> &
  Partial<Pick<Services, "gateway" | "heartbeats" | "jobs" | "providers">> & {
    /**
     * Keeps this process's caches current with every replica's changes; api.ts passes one already
     * listening. Otherwise one listens from the first /v1 call (tests that never call /v1 hold no LISTEN).
     */
    cacheBus?: CacheBus;
  };

/** The api: every surface on one port. Built without listening, so tests can call `handle()`. */
export function createApp(base: AppServices) {
  const services: Services = {
    ...base,
    gateway: base.gateway ?? gatewayFor(base.config),
    heartbeats: base.heartbeats ?? new HeartbeatBatcher(base.db),
    jobs: base.jobs ?? noJobQueue,
    providers: base.providers ?? [],
    // Through the app itself: the same route and code path as Stripe's own deliveries, with no network hop.
    deliverWebhook: async (payload, signature) => {
      const request = new Request(`${base.config.PUBLIC_URL}/webhooks/stripe`, {
        method: "POST",
        headers: { "content-type": "application/json", "stripe-signature": signature },
        body: payload,
      });
      return (await app.handle(request)).status;
    },
  };
  const cacheBus = base.cacheBus ?? new CacheBus();
  const proxyCache = new ProxyCache(base.db, { ttlMs: base.config.V1_CACHE_TTL_MS });
  cacheBus.subscribe(proxyCache);
  cacheBus.subscribe(firewallLookups);
  const v1 = proxyDeps({
    db: base.db,
    cache: proxyCache,
    keyUsage: base.keyUsage,
    publicUrl: base.config.PUBLIC_URL,
    settings: {
      maxBodyBytes: base.config.V1_MAX_BODY_BYTES,
      upstreamTimeoutMs: base.config.V1_UPSTREAM_TIMEOUT_MS,
      rateLimitPerMinute: base.config.V1_RATE_LIMIT_PER_MINUTE,
      imageMaxBytes: base.config.V1_IMAGE_MAX_BYTES,
      imageTimeoutMs: base.config.V1_IMAGE_TIMEOUT_MS,
      imageMaxPerRequest: base.config.V1_IMAGE_MAX_PER_REQUEST,
    },
    // Lazily, so apps built for tests that never call /v1 hold no LISTEN connection.
    ready: () => cacheBus.listen((base.db as unknown as { $client: Sql }).$client),
  });
  const v1Native = v1ServeRoutes(v1);
  // The proxied /v1 POSTs go straight to Bun's router when served (the hot path); the same handlers are Elysia routes for `handle()`.
  const app = new Elysia({ serve: { routes: countedServeRoutes(v1Native), maxRequestBodySize: bodyBackstop(base.config) } })
    .use(httpMetrics())
    // What a route lets escape is logged under a request id and answered without its message (Elysia's default echoes it).
    .onError(({ code, error }) => (code === "UNKNOWN" || code === "INTERNAL_SERVER_ERROR" ? errorResponse(error, newRequestId()) : undefined))
    .use(healthRoutes(services.db))
    .use(metricsRoutes(base.config.OPERATOR_TOKEN, databaseGauges(base.db, base.boss)))
    .use(trpcRoutes(services))
    .use(billingRoutes(services))
    .use(restApiRoutes(services))
    .use(v1Routes(v1, v1Native))
    .use(webhookRoutes(services))
    .use(agentRoutes(services.db, services.jobs, services.heartbeats, cacheBus))
    .use(webRoutes(webBuildDir));
  return app;
}

/**
 * Bun's own cap on any request body, a backstop behind each route's own. Twice the largest route limit:
 * Bun refuses with a bare 413 (no shape, no request id), so a body just over a route's limit must still
 * reach the route, which refuses it from its Content-Length in its surface's shape without reading it.
 */
function bodyBackstop(config: Config): number {
  return (
    2 *
    Math.max(config.V1_MAX_BODY_BYTES, config.TRPC_MAX_BODY_BYTES, STRIPE_EVENT_MAX_BYTES, AGENT_REPORT_MAX_BYTES, BILLING_MAX_BODY_BYTES, REST_MAX_BODY_BYTES)
  );
}

import { Elysia } from "elysia";
import { join } from "node:path";
import { agentRoutes } from "../routes/agent";
import { billingRoutes } from "../routes/billing";
import { healthRoutes } from "../routes/health";
import { trpcRoutes } from "../routes/trpc";
import { webRoutes } from "../routes/web";
import { webhookRoutes } from "../routes/webhooks";
import { gatewayFor } from "./billing/gateway";
import { HeartbeatBatcher } from "./instances/heartbeats";
import { noJobQueue } from "./jobs/queue";
import { projectRoot } from "./config";
import type { Services } from "./trpc/init";

export const webBuildDir = join(projectRoot, "web", "build");

export type AppServices = Omit<Services, "gateway" | "deliverWebhook" | "heartbeats" | "jobs" | "providers"> &
  Partial<Pick<Services, "gateway" | "heartbeats" | "jobs" | "providers">>;

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
  const app = new Elysia()
    .use(healthRoutes(services.db))
    .use(trpcRoutes(services))
    .use(billingRoutes(services))
    .use(webhookRoutes(services))
    .use(agentRoutes(services.db, services.jobs, services.heartbeats))
    .use(webRoutes(webBuildDir));
  return app;
}

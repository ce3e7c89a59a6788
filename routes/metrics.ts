import type { Server } from "bun";
import { Elysia } from "elysia";
import type { Registry } from "prom-client";
import { httpRequestDuration, httpRequests, methodLabel, routeGroup } from "../src/platform/metrics";
import { metricsAnswer } from "../src/platform/metrics-endpoint";

/** GET /metrics: the operator's Prometheus scrape (src/platform/metrics-endpoint.ts). */
export function metricsRoutes(operatorToken: string | undefined, gauges: Registry) {
  return new Elysia({ name: "metrics" }).get("/metrics", ({ request }) => metricsAnswer(request, operatorToken, gauges));
}

const arrivals = new WeakMap<Request, number>();

function observe(request: Request, status: number, startedMs: number | undefined): void {
  const group = routeGroup(new URL(request.url).pathname, request.method);
  httpRequests.labels(group, methodLabel(request.method), String(status)).inc();
  if (startedMs !== undefined) httpRequestDuration.labels(group).observe((performance.now() - startedMs) / 1000);
}

/**
 * Counts and times every request Elysia answers, by route group (never by path). Global hooks, so plugins'
 * routes and answers from onError are counted too. Timed to the response, not to the end of a streamed body.
 */
export function httpMetrics() {
  return new Elysia({ name: "http-metrics" })
    .onRequest(({ request }) => {
      arrivals.set(request, performance.now());
    })
    .onAfterResponse({ as: "global" }, ({ request, responseValue, set }) => {
      const status = responseValue instanceof Response ? responseValue.status : typeof set.status === "number" ? set.status : 200;
      observe(request, status, arrivals.get(request));
    });
}

type ServeHandler = (request: Request, server: Server<unknown> | null) => Promise<Response>;

/** Bun's native routes (the served /v1 POSTs) never reach Elysia's hooks: the same counting, around each handler. */
export function countedServeRoutes<R extends Record<string, Record<string, ServeHandler>>>(routes: R): R {
  const counted =
    (handler: ServeHandler): ServeHandler =>
    async (request, server) => {
      const started = performance.now();
      try {
        const response = await handler(request, server);
        observe(request, response.status, started);
        return response;
      } catch (error) {
        observe(request, 500, started);
        throw error;
      }
    };
  return Object.fromEntries(
    Object.entries(routes).map(([path, methods]) => [path, Object.fromEntries(Object.entries(methods).map(([method, handler]) => [method, counted(handler)]))]),
  ) as R;
}

/**
 * The process's Prometheus metrics: one registry per process (api or workers), every metric defined here so
 * an operator finds all names in one file. A counter is recorded where its event happens; a process where an
 * event never happens exposes it at zero, and Prometheus sums each name over the replicas it scrapes.
 *
 * Labels come from small fixed sets only (route groups, endpoints, outcomes, queue and provider names):
 * never a raw path, an account, instance or key id, or anything a client chose.
 */
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

export const processRegistry = new Registry();

collectDefaultMetrics({ register: processRegistry });
// Under Bun, v8.getHeapStatistics() walks the whole heap on the event loop (see src/jobs/queue.ts): measured at
// 70–90 ms per scrape with a million live objects, a stall for every request. Resident memory stays, for free.
for (const name of [
  "nodejs_heap_size_total_bytes",
  "nodejs_heap_size_used_bytes",
  "nodejs_external_memory_bytes",
  "nodejs_heap_space_size_total_bytes",
  "nodejs_heap_space_size_used_bytes",
  "nodejs_heap_space_size_available_bytes",
]) {
  processRegistry.removeSingleMetric(name);
}

const registers = [processRegistry];

/** The api's surfaces, as route groups: the only values the `group` label takes. */
export const routeGroups = ["v1", "trpc", "billing", "agent", "webhooks", "health", "metrics", "web", "other"] as const;
export type RouteGroup = (typeof routeGroups)[number];

/** The group a request path belongs to; decided by prefix, so no path ever reaches a label. */
export function routeGroup(pathname: string, method: string): RouteGroup {
  // Before /v1: the checkout under /v1/billing is billing REST, not the OpenAI proxy.
  if (pathname.startsWith("/billing/") || pathname.startsWith("/v1/billing/")) return "billing";
  if (pathname === "/v1" || pathname.startsWith("/v1/")) return "v1";
  if (pathname.startsWith("/trpc/") || pathname === "/trpc") return "trpc";
  if (pathname.startsWith("/agent/")) return "agent";
  if (pathname.startsWith("/webhooks/")) return "webhooks";
  if (pathname === "/healthz" || pathname === "/readyz") return "health";
  if (pathname === "/metrics") return "metrics";
  // The web app answers every other GET (files, or the shell for client-side routes).
  return method === "GET" || method === "HEAD" ? "web" : "other";
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** A client may send any method token: anything unusual is one label value. */
export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : "other";
}

export const httpRequests = new Counter({
  name: "qdz_http_requests_total",
  help: "HTTP requests answered by the api, by route group, method and status.",
  labelNames: ["group", "method", "status"] as const,
  registers,
});

export const httpRequestDuration = new Histogram({
  name: "qdz_http_request_duration_seconds",
  help: "Time from a request's arrival to its response (headers: a stream's body may take longer), by route group.",
  labelNames: ["group"] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers,
});

/** The proxied calls and GET /v1/models; anything else under /v1 is `unknown`. */
export type V1Endpoint = "chat/completions" | "completions" | "embeddings" | "models" | "unknown";

export const v1Requests = new Counter({
  name: "qdz_v1_requests_total",
  help: "/v1 calls by endpoint and the status answered (the runtime's, or the proxy's own refusal).",
  labelNames: ["endpoint", "status"] as const,
  registers,
});

export const v1UpstreamDuration = new Histogram({
  name: "qdz_v1_upstream_duration_seconds",
  help: "Time for an instance's runtime to send its response headers (or fail), by endpoint.",
  labelNames: ["endpoint"] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
  registers,
});

export const heartbeatsReceived = new Counter({
  name: "qdz_heartbeats_received_total",
  help: "Heartbeats received from pods' agents.",
  registers,
});

export const billingTickDuration = new Histogram({
  name: "qdz_billing_tick_duration_seconds",
  help: "Duration of billing ticks run in this process.",
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  registers,
});

export const runsBilled = new Counter({
  name: "qdz_billing_runs_billed_total",
  help: "Live runs the billing ticks of this process claimed and billed.",
  registers,
});

export const centsDebited = new Counter({
  name: "qdz_billing_debited_cents_total",
  help: "Cents debited for running time (ticks and settlements), committed.",
  registers,
});

export const centsRefunded = new Counter({
  name: "qdz_billing_refunded_cents_total",
  help: "Cents refunded for runs that failed early, committed.",
  registers,
});

export const schedulesExecuted = new Counter({
  name: "qdz_schedule_executions_total",
  help: "Schedule executions recorded, by outcome.",
  labelNames: ["outcome"] as const,
  registers,
});

/** The in-process caches on the hot paths; the values the `cache` label takes. */
export type CacheName = "api_keys" | "routes" | "firewalls" | "agent_tokens";

const cacheLookups = new Counter({
  name: "qdz_cache_lookups_total",
  help: "Lookups in the api's in-process caches, by cache and result (hit: served from memory).",
  labelNames: ["cache", "result"] as const,
  registers,
});

/** A cache's hit/miss recorder, its label children bound once (the hot path only increments). */
export function cacheLookupCounter(cache: CacheName): (hit: boolean) => void {
  const hit = cacheLookups.labels(cache, "hit");
  const miss = cacheLookups.labels(cache, "miss");
  return (wasHit) => (wasHit ? hit : miss).inc();
}

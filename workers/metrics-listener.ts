import type { Config } from "../src/config";
import { log } from "../src/platform/log";
import { metricsAnswer } from "../src/platform/metrics-endpoint";

/**
 * The workers' /metrics, on WORKERS_METRICS_PORT (off when unset), behind the same operator token as the api's.
 *
 * Why a listener rather than deriving the workers' numbers from the database at the api's scrape: a tick's
 * duration exists only in the process that ran it; a sum of the ledger per scrape grows with the ledger; and
 * each worker counting what it does, scraped on its own, is how Prometheus adds up replicas (sum by name).
 * The database-wide gauges (queue depths, instances) stay with the api, so they are reported once.
 */
export function serveWorkerMetrics(settings: Pick<Config, "WORKERS_METRICS_PORT" | "HOST" | "OPERATOR_TOKEN" | "QDZ_REPLICA">) {
  if (settings.WORKERS_METRICS_PORT === undefined) return null;
  const server = Bun.serve({
    // Each worker replica on its own port: Prometheus scrapes them one by one and sums.
    port: settings.WORKERS_METRICS_PORT + settings.QDZ_REPLICA - 1,
    hostname: settings.HOST,
    fetch: (request) =>
      new URL(request.url).pathname === "/metrics" && request.method === "GET"
        ? metricsAnswer(request, settings.OPERATOR_TOKEN)
        : new Response("Not found.", { status: 404 }),
  });
  log.info(`workers' metrics on http://${settings.HOST}:${server.port}/metrics`);
  return server;
}

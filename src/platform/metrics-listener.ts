import type { Registry } from "prom-client";
import { log } from "./log";
import { metricsAnswer } from "./metrics-endpoint";

/**
 * A process's own /metrics on a port of its own, behind the same operator token as the api's: the workers'
 * (WORKERS_METRICS_PORT) and, with several api replicas, each api's (API_METRICS_PORT). Replica n (from 1)
 * listens on the base port + n − 1, so Prometheus scrapes every process and sums by name.
 *
 * Why per process rather than one scrape: a tick's duration or a request count exists only in the process
 * that saw it; and the api replicas share PORT, so `/metrics` there answers from whichever replica the
 * connection reached. The database-wide gauges (queue depths, instances) come with the api's only.
 */
export function serveMetrics(options: {
  basePort: number | undefined;
  replica: number;
  host: string;
  operatorToken: string | undefined;
  /** The api's database gauges. */
  extra?: Registry;
  name: string;
}) {
  if (options.basePort === undefined) return null;
  const server = Bun.serve({
    port: options.basePort + options.replica - 1,
    hostname: options.host,
    fetch: (request) =>
      new URL(request.url).pathname === "/metrics" && request.method === "GET"
        ? metricsAnswer(request, options.operatorToken, options.extra)
        : new Response("Not found.", { status: 404 }),
  });
  log.info(`${options.name}'s metrics on http://${options.host}:${server.port}/metrics`);
  return server;
}

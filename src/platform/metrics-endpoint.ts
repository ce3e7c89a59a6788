import { createHash, timingSafeEqual } from "node:crypto";
import { Registry } from "prom-client";
import { newRequestId } from "../ids";
import { processRegistry } from "./metrics";

/**
 * GET /metrics for the api and the workers' listener: 404 while OPERATOR_TOKEN is unset (the endpoint does
 * not exist), 401 without the token as a Bearer credential, else the process's metrics (and `extra`, the
 * api's database gauges) in Prometheus's text format.
 */
export async function metricsAnswer(request: Request, operatorToken: string | undefined, extra?: Registry): Promise<Response> {
  const headers: Record<string, string> = { "x-request-id": newRequestId() };
  if (!operatorToken) return new Response("Not found.", { status: 404, headers });
  if (!operatorTokenMatches(request.headers.get("authorization"), operatorToken)) {
    return new Response("Pass the operator token as 'Authorization: Bearer <OPERATOR_TOKEN>'.", {
      status: 401,
      headers: { ...headers, "www-authenticate": 'Bearer realm="metrics"' },
    });
  }
  const registry = extra ? Registry.merge([processRegistry, extra]) : processRegistry;
  return new Response(await registry.metrics(), { headers: { ...headers, "content-type": registry.contentType } });
}

/** Compares digests, so neither the token's content nor its length shows in the time taken. */
export function operatorTokenMatches(authorization: string | null, token: string): boolean {
  const presented = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
  if (!presented) return false;
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(presented), digest(token));
}

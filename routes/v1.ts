import { Elysia } from "elysia";
import type { Server } from "bun";
import { endpointNotFound } from "../src/proxy/errors";
import type { Endpoint } from "../src/proxy/forward";
import { modelsCall, proxyCall, unknownCall, type ProxyDeps } from "../src/proxy/proxy";

/**
 * The OpenAI-compatible surface. The body is never parsed by Elysia
 * (`parse: "none"`): the proxy reads it once, checks `model`, and forwards
 * the same bytes.
 */
export function v1Routes(deps: ProxyDeps) {
  const call =
    (endpoint: Endpoint) =>
    ({ request, server }: { request: Request; server: Server<unknown> | null }) => {
      // A paced or thinking model may go quiet for longer than Bun's 10 s idle
      // timeout mid-stream; the runtime's own deadline (V1_UPSTREAM_TIMEOUT_MS
      // for headers) and the client's disconnect bound this request instead.
      server?.timeout(request, 0);
      return proxyCall(deps, request, endpoint);
    };
  return new Elysia({ name: "v1" })
    .get("/v1/models", ({ request }) => modelsCall(deps, request))
    .post("/v1/chat/completions", call("chat/completions"), { parse: "none" })
    .post("/v1/completions", call("completions"), { parse: "none" })
    .post("/v1/embeddings", call("embeddings"), { parse: "none" })
    .all("/v1/*", ({ request }) => unknownCall(request, endpointNotFound(`${request.method} ${new URL(request.url).pathname}`)), { parse: "none" });
}

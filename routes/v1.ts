import type { Server } from "bun";
import { Elysia } from "elysia";
import { endpointNotFound } from "../src/proxy/errors";
import type { Endpoint } from "../src/proxy/forward";
import { modelsCall, type ProxyDeps, proxyCall, unknownCall } from "../src/proxy/proxy";

const endpoints = { "/v1/chat/completions": "chat/completions", "/v1/completions": "completions", "/v1/embeddings": "embeddings" } as const satisfies Record<
  string,
  Endpoint
>;

type ProxyHandler = (request: Request, server: Server<unknown> | null) => Promise<Response>;

/**
 * The proxied calls as Bun route handlers. The api's server routes them
 * natively (see `createApp`'s `serve.routes`): on the hot path no framework
 * context is built, and the body is read once by the proxy, not by a parser.
 */
export function v1ServeRoutes(deps: ProxyDeps): Record<keyof typeof endpoints, { POST: ProxyHandler }> {
  const call =
    (endpoint: Endpoint): ProxyHandler =>
    (request, server) => {
      // A paced or thinking model may go quiet for longer than Bun's idle timeout mid-stream; the runtime's
      // own deadline (V1_UPSTREAM_TIMEOUT_MS for headers) and the client's disconnect bound this request instead.
      server?.timeout(request, 0);
      return proxyCall(deps, request, endpoint);
    };
  return Object.fromEntries(Object.entries(endpoints).map(([path, endpoint]) => [path, { POST: call(endpoint) }])) as Record<
    keyof typeof endpoints,
    { POST: ProxyHandler }
  >;
}

/**
 * The OpenAI-compatible surface as Elysia routes: what `app.handle()` (tests)
 * reaches, and everything under /v1 that is not a proxied POST. Served over
 * the network, the POSTs go to the same handlers through Bun's router.
 */
export function v1Routes(deps: ProxyDeps, native = v1ServeRoutes(deps)) {
  const post =
    (path: keyof typeof endpoints) =>
    ({ request, server }: { request: Request; server: Server<unknown> | null }) =>
      native[path].POST(request, server);
  const unknown = (request: Request) => unknownCall(request, endpointNotFound(`${request.method} ${new URL(request.url).pathname}`));
  return (
    new Elysia({ name: "v1" })
      .get("/v1/models", ({ request }) => modelsCall(deps, request))
      .post("/v1/chat/completions", post("/v1/chat/completions"), { parse: "none" })
      .post("/v1/completions", post("/v1/completions"), { parse: "none" })
      .post("/v1/embeddings", post("/v1/embeddings"), { parse: "none" })
      // GET too, by name: Elysia prefers the web app's `GET /*` to an `all` route, which would answer 200 with the app shell.
      .get("/v1/*", ({ request }) => unknown(request))
      .all("/v1/*", ({ request }) => unknown(request), { parse: "none" })
  );
}

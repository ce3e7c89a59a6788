import { createTRPCClient, httpLink } from "@trpc/client";
import type { inferRouterOutputs } from "@trpc/server";
// A type-only import: the CLI is checked against the api's router without loading any server code.
import type { AppRouter } from "../trpc/router";
import { transformer } from "../trpc/wire";

export const DEFAULT_URL = "http://localhost:3000";
const REQUEST_TIMEOUT_MS = 30_000;

/** The typed tRPC client; `token` (a `qdzs_` session or a `qdz_` API key) is sent as a Bearer credential. */
export function createClient(url: string, token?: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${url}/trpc`,
        // Unbatched (httpLink): one call per request, so the api's batch limit never applies.
        transformer,
        headers: () => (token ? { authorization: `Bearer ${token}` } : {}),
        fetch: fetchWithTimeout as unknown as FetchOption,
      }),
    ],
  });
}

type FetchOption = Parameters<typeof httpLink>[0]["fetch"];

/** A server that accepts the connection and never answers must not hang a script forever. */
function fetchWithTimeout(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  return fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
}

export type Client = ReturnType<typeof createClient>;

/** What procedures return; superjson keeps their Dates as Dates. */
export type Outputs = inferRouterOutputs<AppRouter>;

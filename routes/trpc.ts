import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import type { Server } from "bun";
import { Elysia } from "elysia";
import type { Services } from "../server/services";
import { resolveCaller } from "../src/auth/caller";
import { clientAddress } from "../src/auth/client-address";
import { allowedOriginsFor } from "../src/auth/csrf";
import { DomainError } from "../src/errors";
import { randomBase62 } from "../src/ids";
import { log } from "../src/platform/log";
import { toTRPCError } from "../src/trpc/errors";
import type { TrpcContext } from "../src/trpc/init";
import { appRouter } from "../src/trpc/router";
import { TRPC_MAX_BATCH_CALLS } from "../src/trpc/wire";
import { admitTrpcRequest } from "./trpc-admission";

/** tRPC at /trpc, served through its fetch adapter. */
export function trpcRoutes(services: Services) {
  const handle = async ({ request, server }: { request: Request; server: Server<unknown> | null }) => {
    const requestId = `req_${randomBase62(16)}`;
    const admitted = await admitTrpcRequest(request, requestId, services.config.TRPC_MAX_BODY_BYTES);
    if (admitted instanceof Response) return admitted;
    const response = await fetchRequestHandler({
      endpoint: "/trpc",
      req: admitted,
      router: appRouter,
      // Already refused above with the limit named; tRPC's own check stays as a second line.
      maxBatchSize: TRPC_MAX_BATCH_CALLS,
      createContext: async ({ req, resHeaders }): Promise<TrpcContext> => {
        let caller: TrpcContext["caller"];
        try {
          caller = await resolveCaller(services.db, req, services.keyUsage);
        } catch (error) {
          // A bad bearer credential is the caller's mistake: answer 401 for every procedure.
          if (error instanceof DomainError) throw toTRPCError(error);
          log.error({ err: error, requestId }, "tRPC: resolving the caller failed");
          throw error;
        }
        return {
          ...services,
          requestId,
          caller,
          ip: clientAddress(server?.requestIP(request)?.address, req.headers.get("x-forwarded-for"), services.config.TRUSTED_PROXIES),
          origin: req.headers.get("origin"),
          allowedOrigins: allowedOriginsFor(services.config.PUBLIC_URL, req),
          resHeaders,
        };
      },
    });
    // Also on answers tRPC gives before it builds a context (malformed input).
    response.headers.set("x-request-id", requestId);
    return response;
  };
  // GET and POST explicitly: a method-specific route wins over `.all` in Elysia's router, and the web app has GET /*.
  return new Elysia({ name: "trpc" }).get("/trpc/*", handle, { parse: "none" }).post("/trpc/*", handle, { parse: "none" });
}

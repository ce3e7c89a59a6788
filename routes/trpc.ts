import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import type { Server } from "bun";
import { Elysia } from "elysia";
import { resolveCaller } from "../src/auth/caller";
import { allowedOriginsFor } from "../src/auth/csrf";
import { DomainError } from "../src/errors";
import { randomBase62 } from "../src/ids";
import { appRouter } from "../src/trpc/router";
import type { Services } from "../server/services";
import type { TrpcContext } from "../src/trpc/init";
import { toTRPCError } from "../src/trpc/errors";

/** tRPC at /trpc, served through its fetch adapter. */
export function trpcRoutes(services: Services) {
  const handle = ({ request, server }: { request: Request; server: Server<unknown> | null }) =>
      fetchRequestHandler({
        endpoint: "/trpc",
        req: request,
        router: appRouter,
        createContext: async ({ req, resHeaders }): Promise<TrpcContext> => {
          const requestId = `req_${randomBase62(16)}`;
          resHeaders.set("x-request-id", requestId);
          let caller: TrpcContext["caller"];
          try {
            caller = await resolveCaller(services.db, req, services.keyUsage);
          } catch (error) {
            // A bad bearer credential is the caller's mistake: answer 401 for every procedure.
            throw error instanceof DomainError ? toTRPCError(error) : error;
          }
          return {
            ...services,
            requestId,
            caller,
            ip: server?.requestIP(request)?.address ?? "unknown",
            origin: req.headers.get("origin"),
            allowedOrigins: allowedOriginsFor(services.config.PUBLIC_URL, req),
            resHeaders,
          };
        },
      });
  // GET and POST explicitly: a method-specific route wins over `.all` in Elysia's router, and the web app has GET /*.
  return new Elysia({ name: "trpc" })
    .get("/trpc/*", handle, { parse: "none" })
    .post("/trpc/*", handle, { parse: "none" });
}

import { Elysia } from "elysia";
import { join } from "node:path";
import { healthRoutes } from "../routes/health";
import { trpcRoutes } from "../routes/trpc";
import { webRoutes } from "../routes/web";
import { projectRoot } from "./config";
import type { Services } from "./trpc/init";

export const webBuildDir = join(projectRoot, "web", "build");

/** The api: every surface on one port. Built without listening, so tests can call `handle()`. */
export function createApp(services: Services) {
  return new Elysia()
    .use(healthRoutes(services.db))
    .use(trpcRoutes(services))
    .use(webRoutes(webBuildDir));
}

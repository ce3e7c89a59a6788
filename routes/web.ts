import { existsSync } from "node:fs";
import { join, normalize } from "node:path";
import { Elysia } from "elysia";

/**
 * Serves the built SvelteKit app from the api's own origin, so cookies and
 * CSRF stay simple. Unknown paths get the app shell (client-side routing).
 */
export function webRoutes(buildDir: string) {
  const shell = join(buildDir, "200.html");
  return new Elysia({ name: "web" }).get("/*", ({ params, set }) => {
    if (!existsSync(shell)) {
      set.status = 503;
      return "The web app is not built yet. Run `npm start` (it builds it) or `bun run build:web`.";
    }
    const path = normalize(`/${params["*"] ?? ""}`);
    const file = Bun.file(join(buildDir, path));
    if (path !== "/" && existsSync(file.name!) && !path.endsWith("/")) {
      // Vite fingerprints everything under _app/immutable, so it can be cached forever.
      set.headers["cache-control"] = path.startsWith("/_app/immutable/") ? "public, max-age=31536000, immutable" : "no-cache";
      return file;
    }
    set.headers["cache-control"] = "no-cache";
    return Bun.file(shell);
  });
}

import { existsSync, statSync } from "node:fs";
import { join, posix, resolve, sep } from "node:path";
import { Elysia } from "elysia";
import { newRequestId } from "../src/ids";

/** Far beyond any path the app links to, and well inside the file system's limits (4096, 255 a name). */
const MAX_PATH_CHARS = 1024;
const MAX_NAME_CHARS = 255;

/** Paths the web app has no page under: its assets, and the api's surfaces that are not the app's (/v1 answers its own 404). */
const NOT_APP_PATHS = /^\/(_app|agent|webhooks|trpc)(\/|$)/;

/** What a request path resolves to: a built file, the app shell (client-side routes), or nothing servable. */
type Resolved = { kind: "file"; path: string } | { kind: "shell" } | { kind: "missing" };

/**
 * Serves the built SvelteKit app from the api's own origin, so cookies and
 * CSRF stay simple. Unknown paths get the app shell (client-side routing);
 * a path that cannot name a file here (too long, malformed, a directory,
 * outside the build) is a plain 404 that never echoes a path.
 */
export function webRoutes(buildDir: string) {
  const root = resolve(buildDir);
  const shell = join(root, "200.html");
  return new Elysia({ name: "web" }).get("/*", ({ request, set }) => {
    if (!existsSync(shell)) {
      set.status = 503;
      return "The web app is not built yet. Run `npm start` (it builds it) or `bun run build:web`.";
    }
    const resolved = resolveStatic(root, new URL(request.url).pathname);
    if (resolved.kind === "missing") return new Response("Not found.", { status: 404, headers: { "x-request-id": newRequestId() } });
    if (resolved.kind === "file") {
      // Vite fingerprints everything under _app/immutable, so it can be cached forever.
      set.headers["cache-control"] = resolved.path.startsWith(join(root, "_app", "immutable") + sep) ? "public, max-age=31536000, immutable" : "no-cache";
      return Bun.file(resolved.path);
    }
    set.headers["cache-control"] = "no-cache";
    return Bun.file(shell);
  });
}

/** Decides from the path alone what it may be, and only then asks the file system (whose errors mean "missing"). */
export function resolveStatic(root: string, pathname: string): Resolved {
  if (pathname.length > MAX_PATH_CHARS) return { kind: "missing" };
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { kind: "missing" };
  }
  // Control characters and backslashes name no file the build writes; NUL would fail in the file system.
  if (/[\p{Cc}\\]/u.test(decoded)) return { kind: "missing" };
  const path = posix.normalize(`/${decoded}`);
  if (path.split("/").some((name) => name.length > MAX_NAME_CHARS)) return { kind: "missing" };
  if (path === "/") return { kind: "shell" };
  const full = join(root, path);
  if (!full.startsWith(root + sep)) return { kind: "missing" };
  let stats: ReturnType<typeof statSync> | undefined;
  try {
    stats = statSync(full, { throwIfNoEntry: false });
  } catch {
    return { kind: "missing" };
  }
  if (stats?.isFile()) return { kind: "file", path: full };
  if (stats) return { kind: "missing" };
  // Client-side routes never live under _app, nor under the api's own prefixes: a missing asset or an unknown
  // api path is a 404, not the app shell with a 200 (an agent or a webhook sender would take it for success).
  return NOT_APP_PATHS.test(path) ? { kind: "missing" } : { kind: "shell" };
}

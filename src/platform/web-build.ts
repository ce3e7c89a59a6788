import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { projectRoot } from "../config";

const webDir = join(projectRoot, "web");
const stampFile = join(webDir, "build", ".source-hash");
/** What the build is made from: a change to any of these makes it stale. */
const sources = [
  "src",
  "static",
  "vite.config.ts",
  "tsconfig.json",
  "package.json",
  "../package-lock.json",
  // What the web app imports from the api's side: the router's types, the rules the Launch page shares, the runway's
  // words, the usage ranges, the budgets' alert thresholds and the checkout's session-id template.
  "../src/trpc",
  "../src/instances/serving-name.ts",
  "../src/pricing/model-class.ts",
  "../src/metering/forecast.ts",
  "../src/usage/types.ts",
  "../src/spend/thresholds.ts",
  "../src/billing/money-format.ts",
  "../src/public-links.ts",
];

/** A hash of the web app's sources (paths and contents). */
export function webSourceHash(): string {
  const hasher = new Bun.CryptoHasher("sha256");
  for (const source of sources) {
    const path = join(webDir, source);
    if (!existsSync(path)) continue;
    for (const file of walk(path)) {
      hasher.update(relative(projectRoot, file));
      hasher.update(readFileSync(file));
    }
  }
  return hasher.digest("hex");
}

function* walk(path: string): Generator<string> {
  if (statSync(path).isFile()) {
    yield path;
    return;
  }
  for (const entry of readdirSync(path).sort()) yield* walk(join(path, entry));
}

export function isWebBuildCurrent(): boolean {
  return existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === webSourceHash();
}

/** Builds the SvelteKit app with Vite under Bun (SvelteKit 3 wants a newer Node than the machine's). */
export async function buildWeb(log: (line: string) => void = console.log): Promise<void> {
  const hash = webSourceHash();
  log("building the web app…");
  const started = Date.now();
  const build = Bun.spawn([process.execPath, "--bun", "vite", "build", "--logLevel", "warn"], {
    cwd: webDir,
    stdout: "inherit",
    stderr: "inherit",
    env: { ...process.env, PATH: `${join(projectRoot, "node_modules", ".bin")}:${process.env.PATH}` },
  });
  if ((await build.exited) !== 0) throw new Error("The web app failed to build (see above).");
  writeFileSync(stampFile, `${hash}\n`);
  log(`web app built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export async function ensureWebBuild(log?: (line: string) => void): Promise<void> {
  if (!isWebBuildCurrent()) await buildWeb(log);
}

if (import.meta.main) {
  if (process.argv.includes("--force")) await buildWeb();
  else await ensureWebBuild();
}

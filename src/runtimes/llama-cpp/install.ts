/**
 * Builds llama.cpp's `llama-server` from source, offline, once per machine.
 *
 * The source comes from the npm registry: `node-llama-cpp` ships llama.cpp as
 * a git bundle, so `npm pack` (no install, no scripts) is the only download.
 * The binary and the cloned source are cached by llama.cpp release under the
 * user's cache dir (see paths.ts); a cached binary that runs is reused.
 *
 *   bun src/runtimes/llama-cpp/install.ts
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { withBuildLock } from "./build-lock";
import { LlamaCppInstallError, runCommand } from "./command";
import { LLAMA_CPP_TAG, llamaCppDir, llamaCppSourceDir, llamaServerPath, NODE_LLAMA_CPP_PACKAGE } from "./paths";

export { LlamaCppInstallError } from "./command";
export {
  findLlamaServer,
  LLAMA_CPP_TAG,
  llamaCppDir,
  llamaCppSourceDir,
  llamaServerPath,
  NODE_LLAMA_CPP_PACKAGE,
  qdzCacheDir,
} from "./paths";

export type InstallPhase = "fetching" | "configuring" | "compiling" | "done";

export interface InstallProgress {
  phase: InstallPhase;
  /** Compilation progress, 0–100, as reported by the build tool. */
  percent?: number;
  message: string;
}

export interface InstallOptions {
  onProgress?: (progress: InstallProgress) => void;
}

export interface InstalledLlamaServer {
  path: string;
  tag: string;
  /** The first line of `llama-server --version`. */
  version: string;
  /** False when an earlier install was reused. */
  built: boolean;
}

/**
 * Offline: the web UI would otherwise be downloaded, and there is no OpenSSL
 * or curl in the binary (the runtime never fetches models itself). Static and
 * not -march=native, so the cached binary survives a move to a similar CPU;
 * AVX2/FMA/F16C is the floor every x86-64 server we place on has.
 */
const CMAKE_FLAGS = [
  "-DCMAKE_BUILD_TYPE=Release",
  "-DLLAMA_USE_PREBUILT_UI=OFF",
  "-DLLAMA_BUILD_UI=OFF",
  "-DLLAMA_OPENSSL=OFF",
  "-DLLAMA_CURL=OFF",
  "-DBUILD_SHARED_LIBS=OFF",
  "-DGGML_NATIVE=OFF",
  "-DGGML_AVX2=ON",
  "-DGGML_FMA=ON",
  "-DGGML_F16C=ON",
  "-DLLAMA_BUILD_TESTS=OFF",
  "-DLLAMA_BUILD_EXAMPLES=OFF",
];

/** Written into the source tree at clone time: the commit the bundle checked out. */
const COMMIT_FILE = ".qdz-commit";

export async function installLlamaServer(options: InstallOptions = {}): Promise<InstalledLlamaServer> {
  const report = options.onProgress ?? (() => {});
  const existing = await runnableVersion(llamaServerPath());
  if (existing) return done(report, existing, false);

  const dir = llamaCppDir();
  mkdirSync(dir, { recursive: true });
  return withBuildLock(
    join(dir, "install.lock"),
    async () => {
      // Whoever held the lock before us may have finished the job.
      const built = await runnableVersion(llamaServerPath());
      if (built) return done(report, built, false);
      await ensureLlamaCppSource(options);
      await build(report);
      const version = await runnableVersion(llamaServerPath());
      if (!version) throw new LlamaCppInstallError(`the freshly built ${llamaServerPath()} does not run`);
      return done(report, version, true);
    },
    (pid) => report({ phase: "fetching", message: `waiting for another install of llama.cpp ${LLAMA_CPP_TAG} (pid ${pid})` }),
  );
}

/**
 * The cloned llama.cpp tree (its `models/` holds vocab-only GGUF files the
 * tiny test model is made from). Fetched and cloned if missing, without
 * compiling anything. Its own lock, so fetching the source for a test model
 * never waits for someone else's compile.
 */
export async function ensureLlamaCppSource(options: InstallOptions = {}): Promise<string> {
  const source = llamaCppSourceDir();
  if (existsSync(join(source, "CMakeLists.txt"))) return source;
  mkdirSync(llamaCppDir(), { recursive: true });
  return withBuildLock(join(llamaCppDir(), "source.lock"), async () => {
    if (existsSync(join(source, "CMakeLists.txt"))) return source;
    await fetchSource(source, options.onProgress ?? (() => {}));
    return source;
  });
}

async function fetchSource(source: string, report: (progress: InstallProgress) => void): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), "qdz-llama-cpp-"));
  try {
    report({ phase: "fetching", message: `fetching ${NODE_LLAMA_CPP_PACKAGE} from the npm registry` });
    const tarball = (await runCommand("npm", ["pack", NODE_LLAMA_CPP_PACKAGE, "--silent", "--pack-destination", scratch], { cwd: scratch }))
      .trim()
      .split("\n")
      .pop();
    if (!tarball) throw new LlamaCppInstallError(`npm pack ${NODE_LLAMA_CPP_PACKAGE} named no tarball`);
    const info = "package/llama/llama.cpp.info.json";
    const bundle = "package/llama/gitRelease.bundle";
    await runCommand("tar", ["-xzf", join(scratch, tarball), "-C", scratch, info, bundle]);

    const { tag } = JSON.parse(readFileSync(join(scratch, info), "utf8")) as { tag?: string };
    if (tag !== LLAMA_CPP_TAG) {
      throw new LlamaCppInstallError(
        `${NODE_LLAMA_CPP_PACKAGE} carries llama.cpp ${tag}, not the pinned ${LLAMA_CPP_TAG}; update LLAMA_CPP_TAG with the package pin`,
      );
    }

    report({ phase: "fetching", message: `unpacking llama.cpp ${tag}` });
    // Cloned aside and renamed, so a half-written tree is never taken for the source.
    const partial = `${source}.partial`;
    rmSync(partial, { recursive: true, force: true });
    await runCommand("git", ["clone", "--quiet", join(scratch, bundle), partial]);
    // The history is not needed, but the commit names the build (`--version`).
    const commit = (await runCommand("git", ["rev-parse", "--short", "HEAD"], { cwd: partial })).trim();
    writeFileSync(join(partial, COMMIT_FILE), `${commit}\n`);
    rmSync(join(partial, ".git"), { recursive: true, force: true });
    renameSync(partial, source);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function build(report: (progress: InstallProgress) => void): Promise<void> {
  const source = llamaCppSourceDir();
  const buildDir = join(llamaCppDir(), "build");
  const logFile = join(llamaCppDir(), "build.log");
  writeFileSync(logFile, "");

  report({ phase: "configuring", message: "configuring llama.cpp (cmake)" });
  const commitFile = join(source, COMMIT_FILE);
  const commit = existsSync(commitFile) ? [`-DLLAMA_BUILD_COMMIT=${readFileSync(commitFile, "utf8").trim()}`] : [];
  // At least 2 jobs, at most 8: each compiler process peaks near 300 MB.
  const jobs = Math.min(Math.max(availableParallelism(), 2), 8);
  let lastPercent = -1;
  try {
    await runCommand("cmake", ["-S", source, "-B", buildDir, ...CMAKE_FLAGS, ...commit], { logFile });
    report({ phase: "compiling", percent: 0, message: `compiling llama-server (${jobs} jobs)` });
    await runCommand("cmake", ["--build", buildDir, "--target", "llama-server", `-j${jobs}`], {
      logFile,
      onLine: (line) => {
        const percent = buildPercent(line);
        if (percent === null || percent === lastPercent) return;
        lastPercent = percent;
        report({ phase: "compiling", percent, message: line.replace(/^\[[^\]]*\]\s*/, "") });
      },
    });
  } catch (error) {
    throw new LlamaCppInstallError(`building llama-server failed (full log: ${logFile}): ${(error as Error).message}`, { cause: error });
  }

  // Copied aside and renamed, so a half-copied binary is never found by findLlamaServer.
  const target = llamaServerPath();
  copyFileSync(join(buildDir, "bin", "llama-server"), `${target}.partial`);
  renameSync(`${target}.partial`, target);
  // ~300 MB of objects; a rebuild is rare enough to start from scratch.
  rmSync(buildDir, { recursive: true, force: true });
}

/** `[ 42%] Building …` (make) or `[57/140] Building …` (ninja); null for other lines. */
export function buildPercent(line: string): number | null {
  const make = /^\[\s*(\d{1,3})%\]/.exec(line);
  if (make) return Number(make[1]);
  const ninja = /^\[(\d+)\/(\d+)\]/.exec(line);
  if (ninja) return Math.floor((100 * Number(ninja[1])) / Number(ninja[2]));
  return null;
}

/** The first line of `--version`, or null when the binary is missing or does not run here. */
async function runnableVersion(binary: string): Promise<string | null> {
  if (!existsSync(binary)) return null;
  try {
    const child = Bun.spawn([binary, "--version"], { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    if (code !== 0) return null;
    return (
      (out + err)
        .split("\n")
        .find((line) => line.startsWith("version:"))
        ?.trim() ??
      (out + err).trim().split("\n")[0] ??
      ""
    );
  } catch {
    return null;
  }
}

function done(report: (progress: InstallProgress) => void, version: string, built: boolean): InstalledLlamaServer {
  const path = llamaServerPath();
  report({ phase: "done", percent: 100, message: built ? `built ${path} (${version})` : `using ${path} (${version})` });
  return { path, tag: LLAMA_CPP_TAG, version, built };
}

if (import.meta.main) {
  const started = Date.now();
  let lastLine = "";
  try {
    await installLlamaServer({
      onProgress: ({ phase, percent, message }) => {
        const line = percent === undefined ? `[${phase}] ${message}` : `[${phase} ${String(percent).padStart(3)}%] ${message}`;
        if (line !== lastLine) console.log(line);
        lastLine = line;
      },
    });
    console.log(`llama-server ready in ${Math.round((Date.now() - started) / 1000)} s`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}

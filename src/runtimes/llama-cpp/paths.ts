import { accessSync, constants } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * The npm package that carries llama.cpp's source as a git bundle. Pinned, so
 * every machine builds the same `llama-server`; bumping it means bumping
 * LLAMA_CPP_TAG too (the install refuses a package whose bundle disagrees).
 */
export const NODE_LLAMA_CPP_PACKAGE = "node-llama-cpp@3.22.1";
/** The llama.cpp release inside that package (its `llama/llama.cpp.info.json`). */
export const LLAMA_CPP_TAG = "v0.5.0";

type Env = Record<string, string | undefined>;

/** `$QDZ_CACHE_DIR`, else `$XDG_CACHE_HOME/qdz`, else `~/.cache/qdz`. Empty values count as unset. */
export function qdzCacheDir(env: Env = process.env, home = homedir()): string {
  if (env.QDZ_CACHE_DIR) return env.QDZ_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "qdz");
  return join(home, ".cache", "qdz");
}

/** Everything built for one llama.cpp release: the binary, its source, the tiny test model. */
export function llamaCppDir(tag = LLAMA_CPP_TAG, env: Env = process.env): string {
  return join(qdzCacheDir(env), "llama.cpp", tag);
}

export function llamaServerPath(tag = LLAMA_CPP_TAG, env: Env = process.env): string {
  return join(llamaCppDir(tag, env), "llama-server");
}

/** The cloned llama.cpp tree, kept after the build for its vocab-only GGUF files. */
export function llamaCppSourceDir(tag = LLAMA_CPP_TAG, env: Env = process.env): string {
  return join(llamaCppDir(tag, env), "source");
}

/**
 * The `llama-server` to run: the one built by `installLlamaServer`, else one
 * on PATH, else null (the local provider then runs the reference runtime).
 * Only checks that the file is executable: cheap enough to call per launch.
 */
export function findLlamaServer(env: Env = process.env): string | null {
  const cached = llamaServerPath(LLAMA_CPP_TAG, env);
  if (isExecutable(cached)) return cached;
  return Bun.which("llama-server", { PATH: env.PATH ?? "" }) ?? null;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

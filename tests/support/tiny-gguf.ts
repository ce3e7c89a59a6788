/**
 * The real llama.cpp runtime in tests: the `llama-server` binary (built from
 * source on a machine's first run, ~4–5 min on 2 cores, then cached) and a
 * tiny random-weight model around the Qwen2 tokenizer (generated, cached).
 */
import { type InstallProgress, installLlamaServer } from "../../src/runtimes/llama-cpp/install";
import { ensureTinyGguf as ensureCachedTinyGguf } from "../../src/runtimes/llama-cpp/make-tiny-gguf";

/** Path of `tiny-random-qwen2.gguf`; fetches llama.cpp's source (not a build) the first time. */
export function ensureTinyGguf(): Promise<string> {
  return ensureCachedTinyGguf();
}

/**
 * Path of the cached `llama-server`, building it if needed. A build logs a
 * line per phase and per 5% to stderr, so a CI log shows it is alive.
 */
export async function ensureLlamaServer(): Promise<string> {
  let lastLogged = -5;
  const log = ({ phase, percent, message }: InstallProgress) => {
    if (phase === "compiling" && percent !== undefined) {
      if (percent < lastLogged + 5 && percent < 100) return;
      lastLogged = percent;
      console.error(`llama.cpp: compiling ${percent}% (${message})`);
    } else {
      console.error(`llama.cpp: ${message}`);
    }
  };
  const started = Date.now();
  const installed = await installLlamaServer({ onProgress: log });
  if (installed.built) console.error(`llama.cpp: built in ${Math.round((Date.now() - started) / 1000)} s`);
  return installed.path;
}

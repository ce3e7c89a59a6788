/**
 * The reference runtime's entry point: what the local provider starts when the
 * real runtime binary is not installed.
 *
 *   bun pods/reference-runtime/main.ts --port 8000 --host 127.0.0.1 \
 *     --served-model-name my-model --model Qwen/Qwen2.5-0.5B-Instruct \
 *     [--task chat|embeddings] [--embedding-dimensions 384] [--max-model-len 4096] \
 *     [--boot-ms 1500] [--tokens-per-second 200] [--api-key KEY]
 */
import { OptionsError, parseFlags } from "./options";
import { createReferenceRuntime } from "./server";

/** How long a stop may take before the process exits anyway. */
const STOP_DEADLINE_MS = 800;

function main(): void {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(Bun.argv.slice(2), { VLLM_API_KEY: process.env.VLLM_API_KEY });
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
  const { options, ignored } = parsed;
  if (ignored.length > 0) console.error(`reference runtime: ignoring options it does not use: ${ignored.join(" ")}`);

  const runtime = createReferenceRuntime(options, { log: (line) => console.log(line) });
  const server = Bun.serve({
    hostname: options.host,
    port: options.port,
    // Streams are paced; Bun's default idle timeout would cut slow ones.
    idleTimeout: 0,
    fetch: runtime.fetch,
  });
  console.log(
    `reference runtime (not a real model) serving '${options.servedModelName}' (${options.model}, task ${options.task}) on http://${options.host}:${server.port}; ready after ${options.bootMs} ms`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`reference runtime: ${signal}, stopping`);
    setTimeout(() => process.exit(0), STOP_DEADLINE_MS).unref();
    // true: close open streams too, so a client mid-stream cannot hold the exit.
    void server.stop(true).then(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main();

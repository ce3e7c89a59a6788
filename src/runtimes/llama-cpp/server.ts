/**
 * Starts `llama-server` on one GGUF model and waits until it serves: the
 * process behind an instance of the llama.cpp runtime.
 */
import type { Subprocess } from "bun";

export interface LlamaServerOptions {
  binary: string;
  model: string;
  /** The serving name: what `/v1/models` lists and requests' `model` names. */
  alias: string;
  port: number;
  host?: string;
  contextSize?: number;
  /** Also serve `/v1/embeddings` (mean pooling); chat keeps working. */
  embeddings?: boolean;
  apiKey?: string;
  /** How long loading may take before the start counts as failed. */
  readyTimeoutMs?: number;
}

export interface RunningLlamaServer {
  url: string;
  process: Subprocess;
  /** Everything it printed so far (it logs to stderr), for a failure's message. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited in `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

export function llamaServerArgs(options: LlamaServerOptions): string[] {
  return [
    "--model",
    options.model,
    "--alias",
    options.alias,
    "--host",
    options.host ?? "127.0.0.1",
    "--port",
    String(options.port),
    "--ctx-size",
    String(options.contextSize ?? 4096),
    // The model's own chat template (tool calls, system prompts) rather than a built-in guess.
    "--jinja",
    ...(options.embeddings ? ["--embeddings", "--pooling", "mean"] : []),
    ...(options.apiKey ? ["--api-key", options.apiKey] : []),
  ];
}

const OUTPUT_LIMIT = 64 * 1024;
const POLL_MS = 100;

export async function startLlamaServer(options: LlamaServerOptions): Promise<RunningLlamaServer> {
  const child = Bun.spawn([options.binary, ...llamaServerArgs(options)], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let output = "";
  // Read both pipes continuously: a full pipe would stall the server.
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) output = (output + decoder.decode(chunk, { stream: true })).slice(-OUTPUT_LIMIT);
  };
  void collect(child.stdout);
  void collect(child.stderr);

  const url = `http://${options.host ?? "127.0.0.1"}:${options.port}`;
  const server: RunningLlamaServer = {
    url,
    process: child,
    output: () => output,
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      try {
        return await child.exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  // /health answers 503 while the model loads, 200 once requests are served.
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`llama-server exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output.slice(-4000)}`);
    }
    const healthy = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (healthy) return server;
    await Bun.sleep(POLL_MS);
  }
  await server.stop();
  throw new Error(`llama-server was not ready within ${options.readyTimeoutMs ?? 60_000} ms:\n${output.slice(-4000)}`);
}

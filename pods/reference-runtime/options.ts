import { parseArgs } from "node:util";
import { z } from "zod";

/** How one reference runtime is configured: the flags it takes, named after vLLM's where vLLM has one. */
export const runtimeOptions = z.object({
  model: z.string().min(1, "--model (a Hugging Face repo) is required"),
  /** The name clients send as `model`; vLLM defaults it to the repo, and so does this. */
  servedModelName: z.string().min(1).optional(),
  task: z.enum(["chat", "embeddings"]).default("chat"),
  embeddingDimensions: z.int().min(1).max(65_536).default(384),
  maxModelLen: z.int().min(16).max(1_048_576).default(4096),
  /** How long /health says "booting" before the runtime serves. */
  bootMs: z.int().min(0).default(1500),
  /** 0 streams as fast as the client reads. */
  tokensPerSecond: z.number().min(0).default(200),
  apiKey: z.string().min(1).optional(),
  host: z.string().min(1).default("127.0.0.1"),
  port: z.int().min(0).max(65_535).default(8000),
});

export type RuntimeOptionsInput = z.input<typeof runtimeOptions>;
export type RuntimeOptions = Omit<z.output<typeof runtimeOptions>, "servedModelName"> & { servedModelName: string };

export class OptionsError extends Error {}

export function resolveOptions(input: RuntimeOptionsInput): RuntimeOptions {
  const parsed = runtimeOptions.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${flagName(issue.path.join("."))}: ${issue.message}`);
    throw new OptionsError(`Invalid reference runtime options:\n${lines.join("\n")}`);
  }
  return { ...parsed.data, servedModelName: parsed.data.servedModelName ?? parsed.data.model };
}

/** vLLM's names for tasks, so a vLLM command line can be replayed here. */
const TASK_ALIASES: Record<string, "chat" | "embeddings"> = {
  chat: "chat",
  generate: "chat",
  completion: "chat",
  embeddings: "embeddings",
  embedding: "embeddings",
  embed: "embeddings",
};

const FLAGS = {
  model: "model",
  "served-model-name": "servedModelName",
  task: "task",
  "embedding-dimensions": "embeddingDimensions",
  "max-model-len": "maxModelLen",
  "boot-ms": "bootMs",
  "tokens-per-second": "tokensPerSecond",
  "api-key": "apiKey",
  host: "host",
  port: "port",
} as const satisfies Record<string, keyof RuntimeOptionsInput>;

const NUMERIC = new Set<string>(["embeddingDimensions", "maxModelLen", "bootMs", "tokensPerSecond", "port"]);

/**
 * Parses a command line such as vLLM's (`[serve] [MODEL] --flag value ...`).
 * Flags this runtime does not know (vLLM's GPU settings) are returned as
 * `ignored` rather than refused, so the platform can pass one command line to
 * either. The API key may also come from VLLM_API_KEY, as with vLLM.
 */
export function parseFlags(argv: string[], env: Record<string, string | undefined> = {}): { options: RuntimeOptions; ignored: string[] } {
  const { values, positionals, tokens } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: "string" as const }])),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const ignored = tokens.filter((token) => token.kind === "option" && !(token.name in FLAGS)).map((token) => `--${token.kind === "option" ? token.name : ""}`);
  const input: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(FLAGS)) {
    const value = values[flag];
    if (typeof value !== "string") continue;
    input[key] = NUMERIC.has(key) && value.trim() !== "" && Number.isFinite(Number(value)) ? Number(value) : value;
  }
  const rest = positionals[0] === "serve" ? positionals.slice(1) : positionals;
  if (input.model === undefined && rest[0]) input.model = rest[0];
  if (typeof input.task === "string") input.task = TASK_ALIASES[input.task] ?? input.task;
  if (input.apiKey === undefined && env.VLLM_API_KEY) input.apiKey = env.VLLM_API_KEY;
  return { options: resolveOptions(input as RuntimeOptionsInput), ignored };
}

function flagName(key: string): string {
  const flag = Object.entries(FLAGS).find(([, name]) => name === key)?.[0];
  return flag ? `--${flag}` : key;
}

/**
 * The processes' one logger (pino): JSON lines on stdout, one object per event, with `requestId`,
 * `accountId`, `instanceId` and `runId` as fields where the caller knows them; human-readable (pino-pretty)
 * when stdout is a terminal. Written synchronously, so a line logged just before `process.exit` is not lost.
 *
 * Never a secret: fields and headers that carry one are censored by name (pino's redact, REDACTED_PATHS), and
 * text that looks like one of the platform's own secrets (keys, session, agent and invite tokens, Stripe
 * secrets) or a failed query's parameters is censored inside messages and errors too.
 */
import pino, { type DestinationStream, type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger } from "pino";

/** Field names whose values are secrets. */
const SECRET_FIELDS = [
  "authorization",
  "cookie",
  "password",
  "passwordHash",
  "token",
  "secret",
  "apiKey",
  "agentToken",
  "sessionToken",
  "operatorToken",
  "webhookSecret",
  // A failed query's parameters (drizzle's DrizzleQueryError, postgres.js's errors) may be hashes of tokens or passwords.
  "params",
  "parameters",
];
/** Headers that carry credentials, lower-case as Fetch's Headers give them. */
const SECRET_HEADERS = ["authorization", "cookie", "set-cookie", "x-api-key", "stripe-signature"];

/**
 * A secret field at the top or one level down (`token`, `run.agentToken`), and a secret header in a `headers`
 * object at either level (`headers`, `req.headers`). Only leading wildcards: pino's redact walks the whole object
 * graph for a wildcard further in, and a logged error's graph can hold sockets and timers whose getters throw.
 */
export const REDACTED_PATHS = [
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`]),
  ...SECRET_HEADERS.flatMap((header) => [`headers["${header}"]`, `*.headers["${header}"]`]),
];

export const CENSOR = "[Redacted]";

/** The platform's bearer secrets (src/auth/secrets.ts newSecret) and Stripe's, by their prefixes. */
const SECRET_TEXT = /\b(qdz[a-z]?_|sk_(?:live|test)_|rk_(?:live|test)_|whsec_)[A-Za-z0-9]{16,}/g;
/** drizzle's failed-query message ends with its parameters. */
const QUERY_PARAMS_TEXT = /^params: .*$/gm;

export function scrubText(text: string): string {
  return text.replace(SECRET_TEXT, `$1${CENSOR}`).replace(QUERY_PARAMS_TEXT, `params: ${CENSOR}`);
}

const secretNames = new Set(SECRET_FIELDS);

/**
 * An error as its type, scrubbed message and stack, its own scalar fields (a code, a query's text, a status)
 * and its causes. Objects it holds are left out: a driver's error can carry its connection's options and socket.
 */
function serializeError(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error)) return typeof error === "string" ? scrubText(error) : error;
  const out: Record<string, unknown> = { type: error.constructor?.name ?? error.name, message: scrubText(error.message), stack: scrubText(error.stack ?? "") };
  for (const [key, value] of Object.entries(error)) {
    if (key in out || key === "cause" || secretNames.has(key)) continue;
    if (typeof value === "string") out[key] = scrubText(value);
    else if (typeof value === "number" || typeof value === "boolean") out[key] = value;
  }
  if (error.cause !== undefined && depth < 3) out.cause = serializeError(error.cause, depth + 1);
  return out;
}

export interface LoggerOptions {
  level?: string;
  /** Where lines go; default stdout. */
  destination?: DestinationStream;
  /** Human-readable lines; default: when stdout is a terminal. */
  pretty?: boolean;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const human = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true);
  const destination =
    options.destination ??
    (human
      ? pretty({ sync: true, ignore: "pid,hostname", translateTime: "SYS:HH:MM:ss.l", errorLikeObjectKeys: ["err", "error"] })
      : pino.destination({ dest: 1, sync: true }));
  return pino(
    {
      level: options.level ?? "info",
      redact: { paths: REDACTED_PATHS, censor: CENSOR },
      serializers: { err: serializeError, error: serializeError },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: {
        // Messages are text the code built, sometimes from values (an upstream's error): scrubbed like errors.
        logMethod(args, method) {
          const scrubbed = args.map((arg) => (typeof arg === "string" ? scrubText(arg) : arg)) as Parameters<typeof method>;
          return method.apply(this, scrubbed);
        },
      },
    },
    destination,
  );
}

/** The process's logger; entry points name the process and set the level once the configuration is read. */
export const log: Logger = createLogger();

export function configureLogging(settings: { level: string; process: string }): void {
  log.level = settings.level;
  log.setBindings({ process: settings.process });
}

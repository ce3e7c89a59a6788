import { TRPCClientError } from "@trpc/client";

export const EXIT_OK = 0;
/** The server refused, or something on this machine went wrong. */
export const EXIT_FAILURE = 1;
/** The command line itself is wrong. */
export const EXIT_USAGE = 2;

/** What the CLI reports: one line for people, a stable code for scripts. */
export class CliError extends Error {
  constructor(
    message: string,
    /** A tRPC code from the server (`UNAUTHORIZED`, `CONFLICT`, …) or one of the CLI's own (`NOT_SIGNED_IN`, `UNREACHABLE`, …). */
    readonly code: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, "USAGE", EXIT_USAGE);
  }
}

export const NOT_SIGNED_IN = "Not signed in. Run `qdz login` (or set QDZ_API_KEY).";

/** Network-level failures as Bun and Node name them: the server is not there (or not reachable). */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ConnectionRefused",
  "FailedToOpenSocket",
]);

/** Turns anything a command throws into a CliError; `url` names the server in connection errors. */
export function toCliError(error: unknown, url: string): CliError {
  if (error instanceof CliError) return error;
  if (!(error instanceof TRPCClientError)) {
    return new CliError(error instanceof Error ? error.message : String(error), "INTERNAL");
  }
  const code: unknown = error.data?.code;
  if (typeof code === "string") return new CliError(error.message, code);

  // No tRPC error body: the request never reached a QDivZero server, or something else answered.
  const cause = error.cause as (Error & { code?: string }) | undefined;
  if (cause?.name === "TimeoutError" || cause?.name === "AbortError") {
    return new CliError(`QDivZero Compute at ${url} did not answer in time. Try again, or check QDZ_URL.`, "UNREACHABLE");
  }
  if (cause instanceof SyntaxError) {
    const status = (error.meta as { response?: Response } | undefined)?.response?.status;
    const answered = status ? ` (it answered HTTP ${status})` : "";
    return new CliError(`The server at ${url} is not a QDivZero Compute api${answered}. Check QDZ_URL.`, "BAD_RESPONSE");
  }
  const causeCode = cause?.code;
  if (cause instanceof TypeError || (causeCode !== undefined && CONNECTION_CODES.has(causeCode))) {
    const reason = causeCode ? ` (${causeCode})` : "";
    return new CliError(`Cannot reach QDivZero Compute at ${url}${reason}. Is it running? Set QDZ_URL to use another server.`, "UNREACHABLE");
  }
  return new CliError(error.message, "UNKNOWN");
}

import { describe, expect, test } from "bun:test";
import { TRPCClientError } from "@trpc/client";
import { CliError, EXIT_FAILURE, EXIT_USAGE, toCliError, UsageError } from "../../src/cli/errors";

const URL = "http://localhost:3000";

/** A TRPCClientError as httpLink builds it from a server's error response. */
function fromServer(message: string, code: string) {
  return TRPCClientError.from({ error: { message, code: -32001, data: { code, httpStatus: 401 } } });
}

function network(cause: Error, meta?: Record<string, unknown>) {
  return new TRPCClientError(cause.message, { cause, meta });
}

describe("toCliError", () => {
  test("a server error keeps its message and tRPC code, exit 1", () => {
    const error = toCliError(fromServer("Email or password is incorrect.", "UNAUTHORIZED"), URL);
    expect(error).toMatchObject({ message: "Email or password is incorrect.", code: "UNAUTHORIZED", exitCode: EXIT_FAILURE });
  });

  test("connection refused names the server", () => {
    const refused = Object.assign(new TypeError("Unable to connect."), { code: "ECONNREFUSED" });
    const error = toCliError(network(refused), URL);
    expect(error.code).toBe("UNREACHABLE");
    expect(error.message).toBe(`Cannot reach QDivZero Compute at ${URL} (ECONNREFUSED). Is it running? Set QDZ_URL to use another server.`);
  });

  test("an unknown host is unreachable too", () => {
    const unknownHost = Object.assign(new Error("getaddrinfo ENOTFOUND qdz.invalid"), { code: "ENOTFOUND" });
    expect(toCliError(network(unknownHost), URL).code).toBe("UNREACHABLE");
  });

  test("a server that is not ours is named with its HTTP status", () => {
    const response = new Response("<html>", { status: 404 });
    const error = toCliError(network(new SyntaxError("JSON Parse error"), { response }), URL);
    expect(error).toMatchObject({ code: "BAD_RESPONSE", message: `The server at ${URL} is not a QDivZero Compute api (it answered HTTP 404). Check QDZ_URL.` });
  });

  test("a timeout says so", () => {
    const timeout = new DOMException("The operation timed out.", "TimeoutError");
    expect(toCliError(network(timeout), URL).message).toContain("did not answer in time");
  });

  test("CLI errors pass through; usage errors exit 2", () => {
    const usage = new UsageError("Missing --email.");
    expect(toCliError(usage, URL)).toBe(usage);
    expect(usage.exitCode).toBe(EXIT_USAGE);
    expect(toCliError(new Error("disk full"), URL)).toEqual(new CliError("disk full", "INTERNAL"));
  });
});

import { TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import { DomainError, type ErrorCode } from "../errors";

const codes: Record<ErrorCode, TRPC_ERROR_CODE_KEY> = {
  INVALID_INPUT: "BAD_REQUEST",
  UNAUTHENTICATED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  RATE_LIMITED: "TOO_MANY_REQUESTS",
  // A rule of the product stops the action (e.g. the balance cannot cover a launch).
  PRECONDITION_FAILED: "PRECONDITION_FAILED",
  // tRPC has no 402; the message says what to top up.
  INSUFFICIENT_FUNDS: "PRECONDITION_FAILED",
};

/** What every internal error answers; the detail is only in the server log, under the request id. */
export const INTERNAL_MESSAGE = "Something went wrong on our side.";

/** The one place domain errors become tRPC errors; anything unknown is an internal error whose cause stays server-side. */
export function toTRPCError(error: unknown): TRPCError {
  if (error instanceof TRPCError) return error;
  if (error instanceof DomainError) return new TRPCError({ code: codes[error.code], message: error.message, cause: error });
  return new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: INTERNAL_MESSAGE, cause: error });
}

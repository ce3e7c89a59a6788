import type { z } from "zod";
import type { Executor } from "../db/client";
import type { KeyUsageRecorder } from "../src/api-keys/authenticate";
import { type Caller, resolveCaller } from "../src/auth/caller";
import { allowedOriginsFor, crossSiteRefusal } from "../src/auth/csrf";
import { type ApiKeyScope, requireScope } from "../src/auth/scopes";
import type { AccountContext } from "../src/context";
import { DomainError, type ErrorCode, ForbiddenError, InvalidInputError, UnauthenticatedError } from "../src/errors";
import { newRequestId } from "../src/ids";
import { log } from "../src/platform/log";
import { BodyTooLargeError, readBodyWithin } from "../src/request-body";
import { describeIssues } from "../src/validation-messages";

const statuses: Record<ErrorCode, number> = {
  INVALID_INPUT: 400,
  UNAUTHENTICATED: 401,
  INSUFFICIENT_FUNDS: 402,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PRECONDITION_FAILED: 409,
  RATE_LIMITED: 429,
};

/**
 * Runs a REST handler and answers JSON. Every error has one shape,
 * `{"error": {"code", "message", "field", "request_id"}}`; anything that is
 * not a domain error is logged with the request id and answered as a 500
 * that reveals nothing.
 */
export async function rest(handler: (requestId: string) => Promise<unknown>, status = 200): Promise<Response> {
  const requestId = newRequestId();
  try {
    const body = await handler(requestId);
    if (body instanceof Response) {
      body.headers.set("x-request-id", requestId);
      return body;
    }
    return Response.json(body, { status, headers: { "x-request-id": requestId } });
  } catch (error) {
    return errorResponse(error, requestId);
  }
}

export function errorResponse(error: unknown, requestId: string): Response {
  const headers: Record<string, string> = { "x-request-id": requestId };
  if (error instanceof DomainError) {
    if ("retryAfterSeconds" in error) headers["retry-after"] = String(error.retryAfterSeconds);
    return Response.json(
      { error: { code: error.code.toLowerCase(), message: error.message, field: error.field ?? null, request_id: requestId } },
      { status: statuses[error.code], headers },
    );
  }
  if (error instanceof BodyTooLargeError) {
    return Response.json({ error: { code: "payload_too_large", message: error.message, field: null, request_id: requestId } }, { status: 413, headers });
  }
  log.error({ err: error, requestId }, "unexpected error");
  return Response.json(
    { error: { code: "internal", message: "Something went wrong on our side.", field: null, request_id: requestId } },
    { status: 500, headers },
  );
}

/**
 * The account a REST call acts in: a Bearer API key or session, or the session cookie (with the CSRF check on writes).
 * An API key must have at least `scope` (src/auth/scopes.ts); people are not scoped.
 */
export async function authenticate(
  db: Executor,
  request: Request,
  publicUrl: string,
  scope: ApiKeyScope,
  keyUsage?: KeyUsageRecorder,
  /** The request's id from `rest()`, carried into the context for the audit trail. */
  requestId?: string,
): Promise<AccountContext & { caller: Caller }> {
  const caller = await resolveCaller(db, request, keyUsage);
  if (!caller) throw new UnauthenticatedError("Pass an API key as 'Authorization: Bearer <key>'.");
  requireScope(caller.scope, scope, `${request.method} ${new URL(request.url).pathname}`);
  if (request.method !== "GET") {
    const refusal = crossSiteRefusal(request.headers.get("origin"), allowedOriginsFor(publicUrl, request), caller);
    if (refusal) throw new ForbiddenError(refusal);
  }
  return { db, accountId: caller.accountId, role: caller.role, actor: caller.actor, requestId, caller };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Parses a JSON body of at most `maxBytes` (413 beyond, before it is buffered) against `schema`, naming the bad fields. */
export async function jsonBody<T extends z.ZodType>(request: Request, schema: T, maxBytes: number): Promise<z.output<T>> {
  const bytes = await readBodyWithin(request, maxBytes);
  let body: unknown;
  try {
    body = JSON.parse(utf8.decode(bytes));
  } catch {
    throw new InvalidInputError("The body must be valid JSON.");
  }
  return parseWith(schema, body);
}

export function parseWith<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  // `field` is the first bad one, for clients that highlight a single input; the message names them all.
  const field = parsed.error.issues[0]!.path.join(".");
  throw new InvalidInputError(describeIssues(parsed.error), field || undefined);
}

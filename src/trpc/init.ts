import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import type { Services } from "../../server/services";
import type { Caller } from "../auth/caller";
import { crossSiteRefusal } from "../auth/csrf";
import { requireScope, scopeForProcedure } from "../auth/scopes";
import type { AccountContext } from "../context";
import { DomainError, RateLimitedError } from "../errors";
import { isOperator } from "../operator/role";
import { log } from "../platform/log";
import { describeIssues, fieldErrorsOf, issuesOf } from "../validation-messages";
import { INTERNAL_MESSAGE, toTRPCError } from "./errors";
import { transformer } from "./wire";

export interface TrpcContext extends Services {
  requestId: string;
  caller: Caller | null;
  /** Where the request came from, for login throttling. */
  ip: string;
  /** The `Origin` header, checked against allowed origins on mutations. */
  origin: string | null;
  /** Origins allowed to send cookie-authenticated mutations: the public URL and the api's own. */
  allowedOrigins: string[];
  resHeaders: Headers;
}

// Plain JSON in, superjson out (src/trpc/wire.ts); every client's link names the same transformer.
const t = initTRPC.context<TrpcContext>().create({
  transformer,
  errorFormatter({ shape, error, ctx, path }) {
    const cause = error.cause;
    const invalid = cause instanceof ZodError ? cause : undefined;
    const internal = error.code === "INTERNAL_SERVER_ERROR";
    // tRPC copies a thrown error's message into the shape: for an unknown error that is a query, a path
    // or a stack's worth of internals. Only the log gets it, under the request id the client is shown.
    // Without a context (its creation failed), routes/trpc.ts has logged it under the request id.
    if (internal && ctx)
      log.error({ err: cause ?? error, requestId: ctx.requestId, accountId: ctx.caller?.accountId, procedure: path }, "tRPC: unexpected error");
    const message = internal ? INTERNAL_MESSAGE : invalid ? describeIssues(invalid) : shape.message;
    return {
      ...shape,
      message,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        requestId: ctx?.requestId,
        field: cause instanceof DomainError ? cause.field : undefined,
        fieldErrors: invalid ? fieldErrorsOf(invalid) : undefined,
        /** Each issue at its full path (`rules.1.options.pattern`), for forms that place messages deeper than a field. */
        issues: invalid ? issuesOf(invalid) : undefined,
        retryAfterSeconds: cause instanceof RateLimitedError ? cause.retryAfterSeconds : undefined,
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Maps domain errors once, and refuses cross-site mutations before any procedure runs. */
const base = t.procedure.use(async ({ ctx, type, next }) => {
  if (type === "mutation") refuseCrossSite(ctx);
  const result = await next();
  if (result.ok) return result;
  const cause = result.error.cause;
  // HTTP's own header too, for clients that read only that; the body's data carries it as well.
  if (cause instanceof RateLimitedError) ctx.resHeaders.set("retry-after", String(cause.retryAfterSeconds));
  // tRPC wraps whatever a procedure throws; a domain error inside gets its own code here.
  if (cause instanceof DomainError) throw toTRPCError(cause);
  // Input that failed its schema: say which field and why, in product words (src/validation-messages.ts), not zod's JSON.
  if (cause instanceof ZodError) throw new TRPCError({ code: "BAD_REQUEST", message: describeIssues(cause), cause });
  return result;
});

function refuseCrossSite(ctx: TrpcContext) {
  const refusal = crossSiteRefusal(ctx.origin, ctx.allowedOrigins, ctx.caller);
  if (refusal) throw new TRPCError({ code: "FORBIDDEN", message: refusal });
}

export const publicProcedure = base;

/** A caller inside an account: a signed-in person or an API key. */
const inAccount = base.use(({ ctx, next }) => {
  const caller = ctx.caller;
  if (!caller) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in or pass an API key." });
  const account: AccountContext = { db: ctx.db, accountId: caller.accountId, role: caller.role, actor: caller.actor, requestId: ctx.requestId };
  return next({ ctx: { ...ctx, caller, account } });
});

/** An API key acts only within its scope: queries need 'read', mutations 'full' (src/auth/scopes.ts). */
const withinKeyScope = t.middleware(({ ctx, path, type, next }) => {
  requireScope(ctx.caller?.scope ?? null, scopeForProcedure(path, type), path);
  return next();
});

/** A signed-in person, or an API key within its scope. */
export const accountProcedure = inAccount.use(withinKeyScope);

/**
 * A signed-in person (not an API key, whatever its scope): account membership, invites, sessions
 * and API keys are theirs. Not built on accountProcedure, so a key hears "needs a person", not "needs 'full'".
 */
export const userProcedure = inAccount.use(({ ctx, next }) => {
  const user = ctx.caller.user;
  if (!user) throw new TRPCError({ code: "FORBIDDEN", message: "This needs a signed-in person, not an API key." });
  return next({ ctx: { ...ctx, user } });
});

/**
 * A platform operator (src/operator/role.ts): a signed-in person named by OPERATOR_EMAILS or granted as the
 * first user. A platform-wide role apart from the account's owner/member; anyone else is refused.
 */
export const operatorProcedure = userProcedure.use(async ({ ctx, next }) => {
  if (!(await isOperator(ctx.db, ctx.config.OPERATOR_EMAILS, ctx.user))) {
    throw new TRPCError({ code: "FORBIDDEN", message: "This needs a platform operator." });
  }
  return next({ ctx: { ...ctx, operator: { userId: ctx.user.userId, email: ctx.user.email } } });
});

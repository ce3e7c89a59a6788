import { z } from "zod";
import { callerIdentity } from "../../accounts/caller-identity";
import { logIn } from "../../accounts/login";
import { loginInput, signupInput } from "../../accounts/schemas";
import { createSession, endSession, switchAccount } from "../../accounts/sessions";
import { signUp } from "../../accounts/signup";
import { clearedSessionCookie, sessionCookie } from "../../auth/caller";
import { isOperator } from "../../operator/role";
import { safeString } from "../../validation";
import { publicProcedure, router, type TrpcContext, userProcedure } from "../init";

/**
 * Browsers get an HTTP-only cookie and never see the token; the CLI asks
 * for `client: "cli"` and gets the token to send as a Bearer credential.
 */
const client = z.enum(["browser", "cli"]).default("browser");

function handOver(ctx: TrpcContext, session: { token: string; expiresAt: Date }, to: "browser" | "cli") {
  if (to === "cli") return { sessionToken: session.token };
  ctx.resHeaders.append("set-cookie", sessionCookie(session.token, session.expiresAt, isHttps(ctx)));
  return { sessionToken: null };
}

const isHttps = (ctx: TrpcContext) => ctx.config.PUBLIC_URL.startsWith("https:");

export const authRouter = router({
  signup: publicProcedure.input(signupInput.extend({ client })).mutation(async ({ ctx, input }) => {
    const limit = { ip: ctx.ip, maxPerIp: ctx.config.SIGNUP_MAX_PER_IP, windowMinutes: ctx.config.SIGNUP_WINDOW_MINUTES };
    // With OPERATOR_EMAILS set the operators are named; otherwise the first sign-up of a fresh install is one.
    const firstUserIsOperator = ctx.config.OPERATOR_EMAILS.length === 0;
    const user = await signUp(ctx.db, input, limit, ctx.requestId, { firstUserIsOperator });
    const session = await createSession(ctx.db, user, ctx.config.SESSION_TTL_DAYS);
    return { userId: user.userId, accountId: user.accountId, email: user.email, ...handOver(ctx, session, input.client) };
  }),

  login: publicProcedure.input(loginInput.extend({ client })).mutation(async ({ ctx, input }) => {
    const session = await logIn(
      ctx.db,
      input,
      ctx.ip,
      { maxFailures: ctx.config.LOGIN_MAX_FAILURES, windowMinutes: ctx.config.LOGIN_WINDOW_MINUTES, sessionTtlDays: ctx.config.SESSION_TTL_DAYS },
      ctx.requestId,
    );
    return { userId: session.userId, accountId: session.accountId, ...handOver(ctx, session, input.client) };
  }),

  logout: userProcedure.mutation(async ({ ctx }) => {
    if (ctx.caller.sessionToken) await endSession(ctx.db, ctx.caller.sessionToken);
    ctx.resHeaders.append("set-cookie", clearedSessionCookie(isHttps(ctx)));
    return { ok: true };
  }),

  /** Who is calling: a person (with their accounts) or an API key. Null when signed out. */
  me: publicProcedure.query(async ({ ctx }) => {
    if (!ctx.caller) return null;
    const user = ctx.caller.user;
    // Whether to show the Operator page; its procedures check again on every call.
    const operator = user ? await isOperator(ctx.db, ctx.config.OPERATOR_EMAILS, user) : false;
    return { ...(await callerIdentity(ctx.db, ctx.caller)), isOperator: operator };
  }),

  switchAccount: userProcedure.input(z.object({ accountId: safeString().max(64) })).mutation(async ({ ctx, input }) => {
    await switchAccount(ctx.db, ctx.user, input.accountId);
    return { accountId: input.accountId };
  }),
});

import { and, asc, count, eq, gt, min, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { loginFailures, memberships, users } from "../../db/schema";
import { verifyPassword } from "../auth/passwords";
import { RateLimitedError, UnauthenticatedError } from "../errors";
import type { LoginInput } from "./schemas";
import { createSession } from "./sessions";

export interface LoginPolicy {
  maxFailures: number;
  windowMinutes: number;
  sessionTtlDays: number;
}

/** One answer for an unknown email and a wrong password, so neither is revealed. */
const WRONG_CREDENTIALS = "Email or password is incorrect.";

export async function logIn(db: Executor, input: LoginInput, ip: string, policy: LoginPolicy) {
  await refuseWhenThrottled(db, input.email, ip, policy);

  const [user] = await db.select().from(users).where(eq(users.email, input.email));
  const valid = await verifyPassword(input.password, user?.passwordHash);
  if (!user || !valid) {
    await db.insert(loginFailures).values({ email: input.email, ip });
    throw new UnauthenticatedError(WRONG_CREDENTIALS);
  }
  await db.delete(loginFailures).where(eq(loginFailures.email, input.email));

  // Owned accounts first: that is where a returning user most likely works.
  const [membership] = await db
    .select({ accountId: memberships.accountId })
    .from(memberships)
    .where(eq(memberships.userId, user.id))
    .orderBy(sql`${memberships.role} = 'owner' desc`, asc(memberships.createdAt))
    .limit(1);
  if (!membership) throw new UnauthenticatedError("This user belongs to no account any more.");
  const session = await createSession(db, { userId: user.id, accountId: membership.accountId }, policy.sessionTtlDays);
  return { ...session, userId: user.id, accountId: membership.accountId };
}

async function refuseWhenThrottled(db: Executor, email: string, ip: string, policy: LoginPolicy) {
  const since = sql`now() - make_interval(mins => ${policy.windowMinutes})`;
  const limits = [
    { column: loginFailures.email, value: email, max: policy.maxFailures },
    // An IP may hold many users (an office), so it gets more room than one email.
    { column: loginFailures.ip, value: ip, max: policy.maxFailures * 4 },
  ];
  for (const limit of limits) {
    const [row] = await db
      .select({ failures: count(), oldest: min(loginFailures.at) })
      .from(loginFailures)
      .where(and(eq(limit.column, limit.value), gt(loginFailures.at, since)));
    if (row && row.failures >= limit.max && row.oldest) {
      const retryAt = new Date(row.oldest).getTime() + policy.windowMinutes * 60_000;
      const retryAfterSeconds = Math.max(1, Math.ceil((retryAt - Date.now()) / 1000));
      throw new RateLimitedError(
        `Too many failed sign-ins. Try again in ${Math.ceil(retryAfterSeconds / 60)} minute(s).`,
        retryAfterSeconds,
      );
    }
  }
}

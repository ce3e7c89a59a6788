import { asc, eq, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { loginFailures, memberships, users } from "../../db/schema";
import { recordAudit } from "../audit/record";
import { verifyPassword } from "../auth/passwords";
import { withTransaction } from "../context";
import { UnauthenticatedError } from "../errors";
import { addressThrottled, dropAttempt, type LoginThrottlePolicy, reserveLoginAttempt, slowDownAddress } from "./login-throttle";
import type { LoginInput } from "./schemas";
import { createSession } from "./sessions";

export interface LoginPolicy extends LoginThrottlePolicy {
  sessionTtlDays: number;
}

/** One answer for an unknown email and a wrong password, so neither is revealed. */
const WRONG_CREDENTIALS = "Email or password is incorrect.";

export async function logIn(db: Executor, input: LoginInput, ip: string, policy: LoginPolicy, requestId?: string) {
  const attempt = await reserveLoginAttempt(db, input.email, ip, policy);
  try {
    await slowDownAddress(ip, attempt.addressExcess);
  } catch (error) {
    await dropAttempt(db, attempt.id);
    throw error;
  }

  const [user] = await db.select().from(users).where(eq(users.email, input.email));
  const valid = await verifyPassword(input.password, user?.passwordHash);
  if (!user || !valid) {
    // The reserved row stays: it is the failure.
    if (attempt.addressExcess > 0) throw addressThrottled(attempt.addressRetryAfterSeconds);
    throw new UnauthenticatedError(WRONG_CREDENTIALS);
  }
  // This attempt's row and the email's earlier failures.
  await db.delete(loginFailures).where(eq(loginFailures.email, input.email));

  // Owned accounts first: that is where a returning user most likely works.
  const [membership] = await db
    .select({ accountId: memberships.accountId })
    .from(memberships)
    .where(eq(memberships.userId, user.id))
    .orderBy(sql`${memberships.role} = 'owner' desc`, asc(memberships.createdAt))
    .limit(1);
  if (!membership) throw new UnauthenticatedError("This user belongs to no account any more.");
  const session = await withTransaction(db, async (tx) => {
    const created = await createSession(tx, { userId: user.id, accountId: membership.accountId }, policy.sessionTtlDays);
    await recordAudit(
      { db: tx, accountId: membership.accountId, actor: { kind: "user", userId: user.id }, requestId },
      { kind: "session.signed_in", subjectId: user.id },
    );
    return created;
  });
  return { ...session, userId: user.id, accountId: membership.accountId };
}

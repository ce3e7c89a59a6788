import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { memberships, sessions, users } from "../../db/schema";
import { newSecret, sha256Hex } from "../auth/secrets";
import type { Role } from "../context";
import { NotFoundError } from "../errors";
import { newId } from "../ids";

export const SESSION_TOKEN_PREFIX = "qdzs_";

export interface SignedInUser {
  sessionId: string;
  userId: string;
  email: string;
  accountId: string;
  role: Role;
}

export async function createSession(db: Executor, user: { userId: string; accountId: string }, ttlDays: number): Promise<{ token: string; expiresAt: Date }> {
  const token = newSecret(SESSION_TOKEN_PREFIX);
  const expiresAt = new Date(Date.now() + ttlDays * 86_400_000);
  await db.insert(sessions).values({
    id: newId("session"),
    tokenHash: sha256Hex(token),
    userId: user.userId,
    accountId: user.accountId,
    expiresAt,
  });
  return { token, expiresAt };
}

/**
 * The signed-in user behind a session token, or null. If the user was removed
 * from the session's account, the session moves to another account of theirs.
 */
export async function resolveSession(db: Executor, token: string): Promise<SignedInUser | null> {
  const [row] = await db
    .select({
      sessionId: sessions.id,
      userId: sessions.userId,
      accountId: sessions.accountId,
      email: users.email,
      role: memberships.role,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .leftJoin(memberships, and(eq(memberships.accountId, sessions.accountId), eq(memberships.userId, sessions.userId)))
    .where(and(eq(sessions.tokenHash, sha256Hex(token)), gt(sessions.expiresAt, sql`now()`)));
  if (!row) return null;
  if (row.role) return { ...row, role: row.role };

  const [fallback] = await db
    .select({ accountId: memberships.accountId, role: memberships.role })
    .from(memberships)
    .where(eq(memberships.userId, row.userId))
    .orderBy(asc(memberships.createdAt))
    .limit(1);
  if (!fallback) return null;
  await db.update(sessions).set({ accountId: fallback.accountId }).where(eq(sessions.id, row.sessionId));
  return { ...row, ...fallback };
}

export async function endSession(db: Executor, token: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.tokenHash, sha256Hex(token)));
}

/** Points the session at another account the user belongs to. */
export async function switchAccount(db: Executor, session: SignedInUser, accountId: string): Promise<void> {
  const [membership] = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.accountId, accountId), eq(memberships.userId, session.userId)));
  if (!membership) throw new NotFoundError("Account", accountId);
  await db.update(sessions).set({ accountId }).where(eq(sessions.id, session.sessionId));
}

import { eq, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { operators, users } from "../../db/schema";

/** Who is asked about: a signed-in person (an API key is never an operator). */
export interface Person {
  userId: string;
  email: string;
}

/**
 * An operator is named by OPERATOR_EMAILS (emails are stored lower-cased, and the list is lower-cased when
 * parsed), or holds a row in `operators` (the first person to sign up on a fresh install).
 */
export async function isOperator(db: Executor, operatorEmails: readonly string[], person: Person): Promise<boolean> {
  if (operatorEmails.includes(person.email.toLowerCase())) return true;
  const [row] = await db.select({ userId: operators.userId }).from(operators).where(eq(operators.userId, person.userId));
  return row !== undefined;
}

/**
 * In a sign-up's transaction, before its user row is written: whether no one has signed up yet. The lock is
 * taken only while the table looks empty, and held to the commit, so of concurrent first sign-ups exactly one
 * sees no users; every later sign-up pays one `exists`.
 */
export async function isFirstSignUp(tx: Executor): Promise<boolean> {
  const nobodyYet = async () => {
    const [row] = await tx.execute<{ found: boolean }>(sql`select exists (select from ${users}) as found`);
    return !row!.found;
  };
  if (!(await nobodyYet())) return false;
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended('operators:first_user', 0))`);
  return nobodyYet();
}

/** Records the first sign-up of a fresh install as the platform's operator. */
export async function grantFirstOperator(tx: Executor, userId: string): Promise<void> {
  await tx.insert(operators).values({ userId, grantedBy: "first_user" });
}

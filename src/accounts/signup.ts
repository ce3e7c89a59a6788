import type { Executor } from "../../db/client";
import { accounts, memberships, users } from "../../db/schema";
import { recordAudit } from "../audit/record";
import { hashPassword } from "../auth/passwords";
import { withTransaction } from "../context";
import { ConflictError } from "../errors";
import { newId } from "../ids";
import { grantFirstOperator, isFirstSignUp } from "../operator/role";
import { isUniqueViolation } from "../platform/pg-errors";
import type { SignupInput } from "./schemas";
import { reserveSignup, type SignupLimit } from "./signup-limit";

export interface NewUser {
  userId: string;
  email: string;
  accountId: string;
}

/**
 * Creates the user and their own account, which they own. A sign-up from the
 * outside names its address and the limit it falls under; in-process callers
 * (tests, tools) omit it. With `firstUserIsOperator`, the first person to sign
 * up on a database with no users becomes the platform's operator.
 */
export async function signUp(
  db: Executor,
  input: SignupInput,
  limit?: SignupLimit,
  requestId?: string,
  options: { firstUserIsOperator?: boolean } = {},
): Promise<NewUser> {
  if (limit) await reserveSignup(db, limit);
  const passwordHash = await hashPassword(input.password); // slow on purpose: outside the transaction
  const userId = newId("user");
  const accountId = newId("account");
  try {
    await withTransaction(db, async (tx) => {
      // Read before the user row is written: the rule is "no users yet" (src/operator/role.ts).
      const operator = options.firstUserIsOperator === true && (await isFirstSignUp(tx));
      await tx.insert(users).values({ id: userId, email: input.email, passwordHash });
      if (operator) await grantFirstOperator(tx, userId);
      await tx.insert(accounts).values({ id: accountId, name: input.accountName ?? defaultAccountName(input.email) });
      await tx.insert(memberships).values({ accountId, userId, role: "owner" });
      await recordAudit(
        { db: tx, accountId, actor: { kind: "user", userId }, requestId },
        { kind: "account.signed_up", subjectId: userId, changes: { after: { email: input.email } } },
      );
    });
  } catch (error) {
    if (isUniqueViolation(error, "users_email_key")) {
      throw new ConflictError("An account with this email already exists. Sign in instead.", "email");
    }
    throw error;
  }
  return { userId, email: input.email, accountId };
}

function defaultAccountName(email: string): string {
  return `${email.split("@")[0]}'s account`;
}

import { and, count, eq, gt, lte } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { signupAttempts } from "../../db/schema";
import { withTransaction } from "../context";
import { RateLimitedError } from "../errors";
import { lockAttempts, secondsUntilOldestLeaves, tryAgainIn, windowStart } from "./attempt-window";

export interface SignupLimit {
  /** The client address, as the api resolved it (see auth/client-address.ts). */
  ip: string;
  maxPerIp: number;
  windowMinutes: number;
}

/**
 * Counts this sign-up against its address before any work is done, so
 * parallel sign-ups count; refused ones are not recorded, so an address
 * regains one sign-up each time its oldest leaves the window. Every attempt
 * that gets through counts, a conflicting email included: trying addresses
 * one by one is what this limits too. Rows that left the window are pruned
 * here, per address, so the table holds only live windows.
 */
export async function reserveSignup(db: Executor, limit: SignupLimit): Promise<void> {
  const since = windowStart(limit.windowMinutes);
  const refusedFor = await withTransaction(db, async (tx) => {
    await lockAttempts(tx, `signup_attempts:${limit.ip}`);
    await tx.delete(signupAttempts).where(and(eq(signupAttempts.ip, limit.ip), lte(signupAttempts.at, since)));
    const [recent] = await tx
      .select({ attempts: count(), retryAfter: secondsUntilOldestLeaves(signupAttempts.at, limit.windowMinutes) })
      .from(signupAttempts)
      .where(and(eq(signupAttempts.ip, limit.ip), gt(signupAttempts.at, since)));
    if (recent!.attempts >= limit.maxPerIp) return recent!.retryAfter;
    await tx.insert(signupAttempts).values({ ip: limit.ip });
    return null;
  });
  if (refusedFor !== null) {
    throw new RateLimitedError(`Too many sign-ups from your network. ${tryAgainIn(refusedFor)}`, refusedFor);
  }
}

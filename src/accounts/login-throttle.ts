import { and, count, eq, gt, lte, or } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { loginFailures } from "../../db/schema";
import { withTransaction } from "../context";
import { RateLimitedError } from "../errors";
import { lockAttempts, secondsUntilOldestLeaves, tryAgainIn, windowStart } from "./attempt-window";

/*
 * Two limits with two purposes.
 *
 * Per email, a hard limit: an account's password gets LOGIN_MAX_FAILURES
 * guesses per window, whoever sends them and however many at once. Beyond
 * that, attempts are refused without checking the password (even a right
 * one: otherwise the limit would be an oracle).
 *
 * Per client address, a slowdown and never a lockout: one address may be a
 * whole office or everyone behind a proxy, and one person's failures must not
 * refuse another person's right password. Beyond 4× LOGIN_MAX_FAILURES
 * failures in the window, each attempt from the address waits (growing with
 * the excess, capped), then is checked: right signs in, wrong answers 429.
 * That bounds one address's guessing across many emails to about
 * MAX_WAITING guesses per MAX_DELAY_MS. The waits are timers, not CPU, but
 * each holds a connection, so at most MAX_WAITING may wait per address (per
 * process); beyond that an attempt is answered 429 without being checked.
 * That refusal lasts only while the address keeps MAX_WAITING attempts
 * waiting at once, a flood and not a history of failures, and checking the
 * overflow instead would hand a flood every argon2 thread and make the delay
 * moot for anyone sending many at once.
 */
const ADDRESS_ALLOWANCE_FACTOR = 4;
const DELAY_STEP_MS = 250;
const MAX_DELAY_MS = 3_000;
const MAX_WAITING = 16;

/** Attempts from one address now waiting, in this process. */
const waitingByAddress = new Map<string, number>();

export interface LoginThrottlePolicy {
  maxFailures: number;
  windowMinutes: number;
}

export interface ReservedAttempt {
  /** The attempt's own row: a failure unless the password turns out right. */
  id: number;
  /** Failures (this attempt and others in flight included) from the address beyond its allowance. */
  addressExcess: number;
  addressRetryAfterSeconds: number;
}

/**
 * Records the attempt before the password is checked, so parallel guesses
 * count; refuses it when the email has used its guesses. Also prunes rows of
 * this email and address that have left the window, so the table only holds
 * live windows.
 */
export async function reserveLoginAttempt(db: Executor, email: string, ip: string, policy: LoginThrottlePolicy): Promise<ReservedAttempt> {
  const since = windowStart(policy.windowMinutes);
  const retryAfter = secondsUntilOldestLeaves(loginFailures.at, policy.windowMinutes);
  const outcome = await withTransaction(db, async (tx) => {
    await lockAttempts(tx, `login_failures:${email}`);
    await tx.delete(loginFailures).where(and(or(eq(loginFailures.email, email), eq(loginFailures.ip, ip)), lte(loginFailures.at, since)));
    const [byEmail] = await tx
      .select({ failures: count(), retryAfter })
      .from(loginFailures)
      .where(and(eq(loginFailures.email, email), gt(loginFailures.at, since)));
    if (byEmail!.failures >= policy.maxFailures) return { refused: true as const, retryAfterSeconds: byEmail!.retryAfter };
    const [row] = await tx.insert(loginFailures).values({ email, ip }).returning({ id: loginFailures.id });
    const [byAddress] = await tx
      .select({ failures: count(), retryAfter })
      .from(loginFailures)
      .where(and(eq(loginFailures.ip, ip), gt(loginFailures.at, since)));
    return {
      refused: false as const,
      id: row!.id,
      addressExcess: Math.max(0, byAddress!.failures - policy.maxFailures * ADDRESS_ALLOWANCE_FACTOR),
      addressRetryAfterSeconds: byAddress!.retryAfter,
    };
  });
  if (outcome.refused) {
    throw new RateLimitedError(`Too many failed sign-ins for this email. ${tryAgainIn(outcome.retryAfterSeconds)}`, outcome.retryAfterSeconds);
  }
  return outcome;
}

/** Waits out the address's slowdown; refuses when too many of its attempts already wait. */
export async function slowDownAddress(ip: string, excess: number): Promise<void> {
  if (excess <= 0) return;
  const waiting = waitingByAddress.get(ip) ?? 0;
  if (waiting >= MAX_WAITING) {
    throw new RateLimitedError(`Too many sign-ins in progress from your network. ${tryAgainIn(MAX_DELAY_MS / 1000)}`, MAX_DELAY_MS / 1000);
  }
  waitingByAddress.set(ip, waiting + 1);
  try {
    await Bun.sleep(Math.min(MAX_DELAY_MS, DELAY_STEP_MS * excess));
  } finally {
    const left = (waitingByAddress.get(ip) ?? 1) - 1;
    if (left > 0) waitingByAddress.set(ip, left);
    else waitingByAddress.delete(ip);
  }
}

/** What a wrong password from a slowed address answers: 429, so clients back off. */
export function addressThrottled(retryAfterSeconds: number): RateLimitedError {
  return new RateLimitedError(`Too many failed sign-ins from your network. ${tryAgainIn(retryAfterSeconds)}`, retryAfterSeconds);
}

/** Forgets an attempt that was never checked, so it counts against no one. */
export async function dropAttempt(db: Executor, id: number): Promise<void> {
  await db.delete(loginFailures).where(eq(loginFailures.id, id));
}

import { type AnyColumn, type SQL, sql } from "drizzle-orm";
import type { Transaction } from "../../db/client";

/**
 * Sliding windows of attempts (sign-ins, sign-ups) kept as rows. Reserving
 * is count-then-insert under a transaction-scoped advisory lock on the key,
 * so parallel requests for one key queue for a moment instead of all reading
 * the same count. Times are PostgreSQL's, the clock the rows are stamped with.
 */
export async function lockAttempts(tx: Transaction, key: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`);
}

export function windowStart(windowMinutes: number): SQL {
  return sql`now() - make_interval(mins => ${windowMinutes})`;
}

/** Seconds until the oldest row in the window leaves it (at least 1): when one more attempt fits. */
export function secondsUntilOldestLeaves(at: AnyColumn, windowMinutes: number): SQL<number> {
  return sql<number>`greatest(1, ceil(extract(epoch from coalesce(min(${at}), now()) + make_interval(mins => ${windowMinutes}) - now())))`.mapWith(Number);
}

export function tryAgainIn(seconds: number): string {
  return seconds < 120 ? `Try again in ${seconds} seconds.` : `Try again in ${Math.ceil(seconds / 60)} minutes.`;
}

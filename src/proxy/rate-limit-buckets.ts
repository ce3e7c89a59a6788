import { sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import type { LeaseTokens } from "./rate-limit";

/** Leases tokens from the bucket every api replica shares (migration 0020's `qdz_rate_limit_take`). */
export function leaseFromDatabase(db: Executor): LeaseTokens {
  return async (key, perMinute, wanted) => {
    const [row] = await db.execute<{ granted: number; tokens_left: number }>(
      sql`select granted, tokens_left from qdz_rate_limit_take(${key}, ${perMinute}::integer, ${wanted}::integer)`,
    );
    return { granted: row!.granted, left: row!.tokens_left };
  };
}

/**
 * Deletes buckets nobody took from for ten minutes. A bucket refills completely within a minute, and a full
 * bucket is what a missing one stands for, so this changes no answer; it keeps the table to the keys in use
 * (sessions come and go; each playground session has a bucket of its own).
 */
export async function pruneRateLimitBuckets(db: Executor): Promise<number> {
  const rows = await db.execute(sql`delete from rate_limit_buckets where refilled_at < now() - interval '10 minutes' returning 1`);
  return rows.length;
}

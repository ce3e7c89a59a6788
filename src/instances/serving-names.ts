import { and, eq, exists, inArray, isNull, not, sql } from "drizzle-orm";
import type { Executor, Transaction } from "../../db/client";
import { instanceRuns, instances } from "../../db/schema";
import { displayName } from "./queries";

/**
 * Serving names: what `/v1` callers put in `model`, unique among an account's instances that are not deleted.
 * An instance that failed without ever serving (its pod never passed a health check) holds its name only until
 * a launch wants it: a user who fixes a launch and tries again gets the name they asked for, not `-2`.
 */

/** States an instance can hold a name in without serving, once it has failed. */
const UNSERVED_ENDS = ["failed", "non_bootstrap"] as const;

/** The default serving name, with `-2`, `-3`… when another live instance of the account holds it. */
export async function freeServingName(db: Executor, accountId: string, base: string): Promise<string> {
  const taken = new Set(
    (
      await db
        .select({ name: instances.servingName })
        .from(instances)
        .where(and(eq(instances.accountId, accountId), isNull(instances.deletedAt)))
    ).map((row) => row.name),
  );
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}

export interface ReleasedName {
  name: string;
  /** The failed instance that held it. */
  from: { id: string; name: string };
}

/**
 * Frees `name` when the instance holding it failed without ever serving, for the launch in this transaction
 * to take; the instance keeps everything else (and gets a new name if it is started again). Null when the name
 * is free, or held by an instance that is live, stopped, or served once: those keep it.
 */
export async function releaseUnservedName(tx: Transaction, accountId: string, name: string): Promise<ReleasedName | null> {
  const served = exists(
    tx
      .select({ one: sql`1` })
      .from(instanceRuns)
      .where(and(eq(instanceRuns.instanceId, instances.id), sql`${instanceRuns.runningAt} is not null`)),
  );
  const [holder] = await tx
    .update(instances)
    .set({ servingName: null, updatedAt: sql`now()` })
    .where(
      and(
        eq(instances.accountId, accountId),
        eq(instances.servingName, name),
        isNull(instances.deletedAt),
        inArray(instances.state, [...UNSERVED_ENDS]),
        not(served),
      ),
    )
    .returning({ id: instances.id, name: instances.name });
  return holder ? { name, from: { id: holder.id, name: displayName(holder) } } : null;
}

/** The serving name a launch gets: the one asked for, or the model's default (taken over from an unserved failure, else numbered). */
export async function servingNameForLaunch(
  tx: Transaction,
  accountId: string,
  wanted: string | undefined,
  base: string,
): Promise<{ name: string; released: ReleasedName | null }> {
  const name = wanted ?? base;
  const released = await releaseUnservedName(tx, accountId, name);
  if (released || wanted) return { name, released };
  return { name: await freeServingName(tx, accountId, base), released: null };
}

/** The launch event's words about a name taken over, for the timeline: where the name came from. */
export function releasedNameCause(released: ReleasedName | null): string {
  if (!released) return "launched";
  return `launched with the serving name '${released.name}', taken from instance '${released.from.name}', which failed without ever serving`;
}

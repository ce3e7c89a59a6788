import { createHash } from "node:crypto";
import { and, eq } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { instances, launchKeys } from "../../db/schema";
import { ConflictError } from "../errors";
import type { LaunchInput } from "./schemas";
import type { Instance } from "./transition";

/**
 * Idempotency keys for launches (REST's `Idempotency-Key`), in `launch_keys`: one instance per account and key.
 * A launch claims its key first in its transaction; a second launch racing it with the same key waits on that
 * row until the first commits, then finds the first's instance instead of making one.
 */
export interface LaunchKey {
  key: string;
  /** The launch's fields, digested: the same key with another launch is refused rather than answered with the first. */
  requestHash: string;
}

export function launchKey(key: string, input: LaunchInput): LaunchKey {
  // The Hugging Face token is used once and never kept, not even digested.
  const { hfToken: _token, ...kept } = input;
  const canonical = JSON.stringify(Object.fromEntries(Object.entries(kept).sort(([a], [b]) => a.localeCompare(b))));
  return { key, requestHash: createHash("sha256").update(canonical).digest("hex") };
}

/** Claims the key for `instanceId`; false when another launch holds it (committed: the insert waited for it). */
export async function claimLaunchKey(tx: Executor, accountId: string, launch: LaunchKey, instanceId: string): Promise<boolean> {
  const claimed = await tx
    .insert(launchKeys)
    .values({ accountId, key: launch.key, requestHash: launch.requestHash, instanceId })
    .onConflictDoNothing()
    .returning({ key: launchKeys.key });
  return claimed.length === 1;
}

/** The instance an earlier launch with this key made (deleted ones too: a retry never makes a second), or null. */
export async function launchedWithKey(db: Executor, accountId: string, launch: LaunchKey): Promise<Instance | null> {
  const [row] = await db
    .select({ instance: instances, requestHash: launchKeys.requestHash })
    .from(launchKeys)
    .innerJoin(instances, eq(instances.id, launchKeys.instanceId))
    .where(and(eq(launchKeys.accountId, accountId), eq(launchKeys.key, launch.key)));
  if (!row) return null;
  if (row.requestHash !== launch.requestHash) {
    throw new ConflictError("This Idempotency-Key was used for a different launch: use a new key for a new launch.", "Idempotency-Key");
  }
  return row.instance;
}

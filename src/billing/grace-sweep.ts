import { and, eq, inArray, isNotNull, isNull, lt, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { accountBalances, instances } from "../../db/schema";
import { recordAudit, systemActor } from "../audit/record";
import { stateChange, stopInstance } from "../instances/lifecycle";
import { canStop, liveRunStates } from "../instances/state-machine";
import type { JobQueue } from "../jobs/queue";

/**
 * When an account's grace window ends with the balance still negative, its
 * running and pending instances are stopped (never deleted), each with the
 * cause recorded and its run ended as `grace`. Safe to run twice: a stopping instance is not stopped again.
 */
export async function stopInstancesAfterGrace(db: Database, jobs: JobQueue, graceWindowHours: number): Promise<string[]> {
  const due = await db
    .select({ instance: instances })
    .from(instances)
    .innerJoin(accountBalances, eq(accountBalances.accountId, instances.accountId))
    .where(
      and(
        isNotNull(accountBalances.graceStartedAt),
        lt(accountBalances.balanceCents, 0),
        lt(accountBalances.graceStartedAt, sql`now() - make_interval(hours => ${graceWindowHours})`),
        inArray(instances.state, [...liveRunStates]),
        isNull(instances.deletedAt),
      ),
    );
  const stopped: string[] = [];
  for (const { instance } of due) {
    await db.transaction(async (tx) => {
      // Re-check under the lock: a top-up may have ended grace since the query above.
      const [balance] = await tx.select().from(accountBalances).where(eq(accountBalances.accountId, instance.accountId)).for("update");
      if (!balance || balance.balanceCents >= 0) return;
      const [current] = await tx.select().from(instances).where(eq(instances.id, instance.id)).for("update");
      if (!current || !canStop(current.state)) return;
      const after = await stopInstance(
        tx,
        jobs,
        current,
        `stopped by the platform: the ${graceWindowHours} h grace window ended with a negative balance`,
        "grace",
      );
      await recordAudit({ db: tx, accountId: current.accountId, actor: systemActor }, stateChange("instance.stopped", current, after, "grace"));
      stopped.push(instance.id);
    });
  }
  return stopped;
}

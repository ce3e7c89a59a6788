import { eq, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { instanceEvents, instances } from "../../db/schema";
import { withTransaction } from "../context";
import { NotFoundError } from "../errors";
import { assertTransition, type InstanceState } from "./state-machine";

export type Instance = typeof instances.$inferSelect;
/** Columns a transition may set along with the state. */
export type InstancePatch = Partial<Omit<typeof instances.$inferInsert, "id" | "accountId" | "state" | "createdAt">>;

export interface TransitionRequest {
  to: InstanceState;
  /** Why, in words a person reads in the timeline ("stopped by ada@example.com", "runtime exited with code 137"). */
  cause: string;
  detail?: Record<string, unknown>;
  patch?: InstancePatch;
}

/**
 * The only way an instance changes state: checks the move against the state
 * machine, writes the state and appends the event in one transaction, with
 * the row locked so two concurrent transitions cannot both pass the check.
 */
export async function transition(db: Executor, instanceId: string, request: TransitionRequest): Promise<Instance> {
  return withTransaction(db, async (tx) => {
    const [current] = await tx.select().from(instances).where(eq(instances.id, instanceId)).for("update");
    if (!current) throw new NotFoundError("Instance", instanceId);
    assertTransition(current.state, request.to, `Instance '${current.name ?? current.id}'`);
    const [updated] = await tx
      .update(instances)
      .set({ ...request.patch, state: request.to, stateChangedAt: sql`now()`, updatedAt: sql`now()` })
      .where(eq(instances.id, instanceId))
      .returning();
    await tx.insert(instanceEvents).values({
      instanceId,
      fromState: current.state,
      toState: request.to,
      cause: request.cause,
      detail: request.detail ?? null,
    });
    return updated!;
  });
}

import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { Database, Transaction } from "../../db/client";
import { instanceRuns } from "../../db/schema";

/**
 * A provisioner's hold on a run, kept in `instance_runs.claimed_at` by the database clock: renewed every
 * third of the lease while provisioning; one not renewed for the whole lease belongs to a worker that died,
 * and the next provisioner may take it (the reconciler enqueues one). The claim time, truncated to
 * milliseconds so it survives the round trip, is also the holder's token: every write of the holder is
 * conditional on it. Writes and renewals run one at a time, so the token a write compares is the latest.
 */
export class ProvisioningLease {
  lost = false;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly timer: ReturnType<typeof setInterval>;

  private constructor(
    private readonly db: Database,
    private readonly runId: string,
    private token: Date,
    leaseSeconds: number,
  ) {
    this.timer = setInterval(() => void this.renew(), (leaseSeconds * 1000) / 3);
    this.timer.unref?.();
  }

  /** Claims a run that has no pod yet, unless a live lease holds it; returns the pod a previous holder may have left. */
  static async claim(db: Database, runId: string, leaseSeconds: number): Promise<{ lease: ProvisioningLease; leftoverPodId: string | null } | null> {
    const [claimed] = await db
      .update(instanceRuns)
      .set({ claimedAt: sql`date_trunc('milliseconds', now())` })
      .where(
        and(
          eq(instanceRuns.id, runId),
          isNull(instanceRuns.podId),
          isNull(instanceRuns.endedAt),
          or(isNull(instanceRuns.claimedAt), lt(instanceRuns.claimedAt, sql`now() - make_interval(secs => ${leaseSeconds})`)),
        ),
      )
      .returning({ claimedAt: instanceRuns.claimedAt, leftoverPodId: instanceRuns.provisioningPodId });
    if (!claimed) return null;
    return { lease: new ProvisioningLease(db, runId, claimed.claimedAt!, leaseSeconds), leftoverPodId: claimed.leftoverPodId };
  }

  /** The run, while this lease holds it and it still has no pod. */
  private held() {
    return and(eq(instanceRuns.id, this.runId), eq(instanceRuns.claimedAt, this.token), isNull(instanceRuns.podId), isNull(instanceRuns.endedAt));
  }

  serial<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => {});
    return result;
  }

  /** Inside a transaction: locks the run if the lease still holds it (until commit, so nobody takes it over meanwhile). */
  async lock(tx: Transaction): Promise<boolean> {
    const [row] = await tx.select({ id: instanceRuns.id }).from(instanceRuns).where(this.held()).for("update");
    if (!row) this.lost = true;
    return Boolean(row);
  }

  /** Writes to the run only while the lease holds it. */
  update(values: Partial<typeof instanceRuns.$inferInsert>): Promise<boolean> {
    return this.serial(async () => {
      const rows = await this.db.update(instanceRuns).set(values).where(this.held()).returning({ id: instanceRuns.id });
      if (rows.length === 0) this.lost = true;
      return rows.length > 0;
    });
  }

  /** Gives the run up now (after an error), so the job's retry need not wait for the lease. */
  release(): Promise<boolean> {
    return this.update({ claimedAt: null });
  }

  end(): void {
    clearInterval(this.timer);
  }

  private async renew(): Promise<void> {
    try {
      await this.serial(async () => {
        if (this.lost) return;
        const [row] = await this.db
          .update(instanceRuns)
          .set({ claimedAt: sql`date_trunc('milliseconds', now())` })
          .where(this.held())
          .returning({ claimedAt: instanceRuns.claimedAt });
        if (row) this.token = row.claimedAt!;
        else this.lost = true;
      });
    } catch (error) {
      // The database unreachable for a moment: try again at the next tick; the lease lapses only after a whole lease.
      console.error(`provisioning lease on ${this.runId}: renewal failed`, error);
    }
  }
}

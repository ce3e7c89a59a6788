import type { Database, Transaction } from "../../db/client";
import { log } from "../platform/log";
import { type ClaimedWrite, claimRun, lockClaimed, type RunClaim, renewClaim, writeClaimed } from "./runs";

/**
 * A provisioner's hold on a run, kept in `instance_runs.claimed_at` by the database clock: renewed every
 * third of the lease while provisioning; one not renewed for the whole lease belongs to a worker that died,
 * and the next provisioner may take it (the reconciler enqueues one). The claim time is also the holder's
 * token: every write of the holder is conditional on it. Writes and renewals run one at a time, so the token
 * a write compares is the latest. This class keeps only the timing and the ordering: its writes are
 * `runs.ts`'s, the one writer of runs.
 */
export class ProvisioningLease {
  lost = false;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly timer: ReturnType<typeof setInterval>;

  private constructor(
    private readonly db: Database,
    private claim: RunClaim,
    leaseSeconds: number,
  ) {
    this.timer = setInterval(() => void this.renew(), (leaseSeconds * 1000) / 3);
    this.timer.unref?.();
  }

  /** Claims a run that has no pod yet, unless a live lease holds it; returns the pod a previous holder may have left. */
  static async claim(db: Database, runId: string, leaseSeconds: number): Promise<{ lease: ProvisioningLease; leftoverPodId: string | null } | null> {
    const claimed = await claimRun(db, runId, leaseSeconds);
    if (!claimed) return null;
    return { lease: new ProvisioningLease(db, claimed.claim, leaseSeconds), leftoverPodId: claimed.leftoverPodId };
  }

  serial<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => {});
    return result;
  }

  /** Inside a transaction: locks the run if the lease still holds it (until commit, so nobody takes it over meanwhile). */
  async lock(tx: Transaction): Promise<boolean> {
    const locked = await lockClaimed(tx, this.claim);
    if (!locked) this.lost = true;
    return locked;
  }

  /** Writes to the run only while the lease holds it. */
  update(values: ClaimedWrite): Promise<boolean> {
    return this.serial(async () => {
      const written = await writeClaimed(this.db, this.claim, values);
      if (!written) this.lost = true;
      return written;
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
        const token = await renewClaim(this.db, this.claim);
        if (token) this.claim = { ...this.claim, token };
        else this.lost = true;
      });
    } catch (error) {
      // The database unreachable for a moment: try again at the next tick; the lease lapses only after a whole lease.
      log.error({ err: error, runId: this.claim.runId }, `provisioning lease on ${this.claim.runId}: renewal failed`);
    }
  }
}

import { ProvisionError } from "../seam";

/**
 * Lambda accepts one launch per interval. Launches go through here one at a time, each starting no sooner than the
 * interval after the one before (counted from when that one was sent: a refused launch counts too). The queue is
 * bounded: past `maxWaiting`, a launch is refused at once as retryable, so placement tries another offer instead of
 * waiting minutes.
 */
export class LaunchPacer {
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
    private readonly maxWaiting = 5,
  ) {}

  run<T>(launch: () => Promise<T>): Promise<T> {
    if (this.waiting >= this.maxWaiting) {
      return Promise.reject(new ProvisionError(`Lambda: ${this.waiting} launches already waiting for their turn (one per ${this.intervalMs / 1000} s)`, true));
    }
    this.waiting++;
    const turn = this.tail.then(async () => {
      const wait = this.lastSentAt + this.intervalMs - this.now();
      if (wait > 0) await this.sleep(wait);
      this.waiting--;
      this.lastSentAt = this.now();
      return launch();
    });
    this.tail = turn.catch(() => undefined);
    return turn;
  }
}

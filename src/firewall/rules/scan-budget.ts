/**
 * What the custom patterns of one firewall may spend, together, on one prompt.
 * RE2 is linear, but its cost per character grows with the compiled pattern
 * (up to ~25 µs at the 250-instruction cap), and a prompt may be megabytes
 * with up to a hundred rules: without a cap one request could still hold the
 * event loop for seconds.
 */
export interface ScanLimits {
  /** Characters read by all custom patterns together: a text read by three rules counts three times. */
  chars: number;
  /** Milliseconds on the monotonic clock, from the first window read. */
  ms: number;
  now?: () => number;
}

// Measured: a 100,000-character prompt takes a typical custom pattern 1–25 ms, so five such rules fit well within.
export const scanLimits: ScanLimits = { chars: 2_000_000, ms: 250 };

/** One prompt's budget: checked before each window, and spent for good once it runs out. */
export class ScanBudget {
  #charsLeft: number;
  readonly #limits: ScanLimits;
  #deadline: number | null = null;
  #exhausted = false;

  constructor(limits: ScanLimits = scanLimits) {
    this.#limits = limits;
    this.#charsLeft = limits.chars;
  }

  /** Takes `chars` for the next window, or answers false when the budget cannot cover it (nothing is taken). */
  take(chars: number): boolean {
    if (this.#exhausted) return false;
    const now = this.#limits.now ? this.#limits.now() : performance.now();
    this.#deadline ??= now + this.#limits.ms;
    if (chars > this.#charsLeft || now > this.#deadline) {
      // For good: once the prompt has cost this much, no later window is read, even a short one.
      this.#exhausted = true;
      return false;
    }
    this.#charsLeft -= chars;
    return true;
  }
}

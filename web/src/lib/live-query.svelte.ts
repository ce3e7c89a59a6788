import { describeError } from "#lib/trpc.ts";

/**
 * A query that follows a form as it is typed: re-read `delayMs` after the
 * input last changed, and only the answer to the latest input counts (a slow
 * answer to an older one is dropped). A null input clears it. Create it while
 * a component initialises: it lives as long as the component.
 */
export class LiveQuery<Input, Output> {
  value = $state<Output | null>(null);
  /** True from a change of input until its answer arrives. */
  loading = $state(false);
  error = $state<string | null>(null);
  /** The answer's message per input field, when it names one (a preview's `cron` or `timeZone`). */
  fieldErrors = $state<Record<string, string>>({});
  #latest = 0;

  constructor(input: () => Input | null, read: (input: Input) => Promise<Output>, delayMs: number, options: { keepOnError?: boolean } = {}) {
    $effect(() => {
      const current = input();
      const request = ++this.#latest;
      if (current === null) {
        this.value = null;
        this.loading = false;
        this.error = null;
        this.fieldErrors = {};
        return;
      }
      this.loading = true;
      const timer = setTimeout(async () => {
        try {
          const answer = await read(current);
          if (request !== this.#latest) return;
          this.value = answer;
          this.error = null;
          this.fieldErrors = {};
        } catch (error) {
          if (request !== this.#latest) return;
          const details = describeError(error);
          this.error = details.message;
          this.fieldErrors = details.fieldErrors;
          if (!options.keepOnError) this.value = null;
        } finally {
          if (request === this.#latest) this.loading = false;
        }
      }, delayMs);
      return () => clearTimeout(timer);
    });
  }
}

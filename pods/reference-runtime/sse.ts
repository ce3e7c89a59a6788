/** One server-sent event of a stream; paced events wait their turn at the runtime's tokens per second. */
export interface StreamEvent {
  data: unknown;
  paced: boolean;
}

/** Counts generations in progress, so tests can see one stop when its client leaves. */
export class GenerationTracker {
  #active = 0;

  get active(): number {
    return this.#active;
  }

  /** Starts a generation; the returned function ends it and may be called more than once. */
  begin(): () => void {
    this.#active++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#active--;
    };
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

interface StreamOptions {
  signal: AbortSignal;
  tokensPerSecond: number;
  tracker: GenerationTracker;
}

const encoder = new TextEncoder();

/**
 * `data: {json}\n\n` frames, then `data: [DONE]`, as OpenAI streams. Events
 * are pulled one at a time from a lazy iterator, so when the client goes away
 * (the request's signal aborts, or the body is cancelled) nothing more is made.
 */
export function sseResponse(events: Iterator<StreamEvent>, { signal, tokensPerSecond, tracker }: StreamOptions): Response {
  const interval = tokensPerSecond > 0 ? 1000 / tokensPerSecond : 0;
  const end = tracker.begin();
  signal.addEventListener("abort", end, { once: true });
  let startedAt: number | undefined;
  let pacedCount = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (signal.aborted) return finish(controller);
      const next = events.next();
      if (next.done) {
        controller.enqueue(encoder.encode("data: [DONE]\n\n"));
        return finish(controller);
      }
      if (next.value.paced && interval > 0) {
        // Paced against the start, not the previous event, so slow pulls do not add up to a slower stream.
        startedAt ??= performance.now();
        pacedCount++;
        await sleep(startedAt + pacedCount * interval - performance.now(), signal);
        if (signal.aborted) return finish(controller);
      }
      controller.enqueue(encoder.encode(`data: ${JSON.stringify(next.value.data)}\n\n`));
    },
    cancel() {
      end();
    },
  });
  function finish(controller: ReadableStreamDefaultController<Uint8Array>) {
    end();
    try {
      controller.close();
    } catch {
      // Already closed or errored because the client left: nothing to tell it.
    }
  }
  return new Response(body, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" },
  });
}

import { expect } from "bun:test";

/** Generous: a healthy event loop answers /healthz in a few ms; the stalls this guards against lasted seconds. */
export const HEALTH_BOUND_MS = 500;

/**
 * Runs `hostile` while `<base>/healthz` is polled over the socket. The
 * slowest health answer says whether the api's event loop stalled meanwhile:
 * a stall test, not a benchmark.
 */
export async function whilePollingHealth<T>(base: string, hostile: () => Promise<T>): Promise<{ result: T; slowestHealthMs: number; polls: number }> {
  let done = false;
  let slowestHealthMs = 0;
  let polls = 0;
  const poller = (async () => {
    while (!done) {
      const started = performance.now();
      const response = await fetch(`${base}/healthz`);
      expect(response.status).toBe(200);
      await response.text();
      slowestHealthMs = Math.max(slowestHealthMs, performance.now() - started);
      polls++;
      await Bun.sleep(10);
    }
  })();
  try {
    // Let the first poll land before the hostile request goes out.
    await Bun.sleep(20);
    return { result: await hostile(), slowestHealthMs, polls };
  } finally {
    done = true;
    await poller;
  }
}

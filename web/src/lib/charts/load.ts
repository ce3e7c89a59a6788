/** The charts chunk, fetched once on first use; every chart on the page waits on the same promise. */
let charts: Promise<typeof import("./index.ts")> | undefined;

export function loadCharts(): Promise<typeof import("./index.ts")> {
  charts ??= import("./index.ts").catch((error: unknown) => {
    // A failed fetch (offline, a deploy replaced the chunk) is retried by the next chart that asks.
    charts = undefined;
    throw error;
  });
  return charts;
}

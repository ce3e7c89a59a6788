/** Bench children exit when the orchestrator dies (even by `kill -9`), so nothing outlives a run. */
export function watchParent(exit: () => void): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      exit();
    }
  }, 500);
  timer.unref();
}

/** A bench server's life: announce `{"port": N}` on stdout (the orchestrator reads it), stop with the orchestrator or on SIGTERM. */
export function announceAndServe(server: { port: number | undefined; stop(closeActive?: boolean): unknown }): void {
  console.log(JSON.stringify({ port: server.port }));
  const exit = () => {
    server.stop(true);
    process.exit(0);
  };
  watchParent(exit);
  process.once("SIGTERM", exit);
}

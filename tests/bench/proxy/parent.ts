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

import { log } from "./log";

/**
 * Children of the supervisor exit when it dies (say, `kill -9`), so a crash
 * never leaves an api holding the port or workers holding jobs.
 */
export function exitWithSupervisor(shutdown: () => Promise<void> | void): void {
  if (process.env.QDZ_SUPERVISED !== "1") return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      log.warn("the supervisor is gone; stopping");
      void shutdown();
    }
  }, 1000);
  timer.unref();
}

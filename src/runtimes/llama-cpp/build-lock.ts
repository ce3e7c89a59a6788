import { linkSync, readFileSync, rmSync, writeFileSync } from "node:fs";

const POLL_MS = 1000;

/**
 * Runs `fn` while holding an exclusive lock file, so two processes never
 * build the same llama.cpp release into the same directory at once; the
 * second waits, then finds the first one's result. A lock whose process has
 * died (a killed build) is taken over rather than waited on forever.
 */
export async function withBuildLock<T>(lockPath: string, fn: () => Promise<T>, onWait?: (holderPid: number) => void): Promise<T> {
  let announced = false;
  for (;;) {
    const holder = tryAcquire(lockPath);
    if (holder === null) break;
    if (holder === -1) continue;
    if (!isAlive(holder)) {
      rmSync(lockPath, { force: true });
      continue;
    }
    if (!announced) onWait?.(holder);
    announced = true;
    await Bun.sleep(POLL_MS);
  }
  try {
    return await fn();
  } finally {
    rmSync(lockPath, { force: true });
  }
}

/** Null when the lock is now ours, else the pid written by its holder. */
function tryAcquire(lockPath: string): number | null {
  // Written aside and hard-linked into place, so the lock never exists without its pid.
  const draft = `${lockPath}.${process.pid}`;
  writeFileSync(draft, String(process.pid));
  try {
    linkSync(draft, lockPath);
    return null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    try {
      return Number.parseInt(readFileSync(lockPath, "utf8"), 10);
    } catch {
      return -1; // removed between our link and read: try again
    }
  } finally {
    rmSync(draft, { force: true });
  }
}

function isAlive(pid: number): boolean {
  if (!(pid > 0)) return false; // an unreadable lock is nobody's
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { projectRoot } from "../../src/config";
import { isAlive, waitForExit } from "../../src/platform/embedded-postgres";

export const TEMPLATE_DB = "qdz_template";
export const testDataRoot = join(projectRoot, ".data", "test");

/** A free TCP port on loopback, from the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** Clusters of earlier test runs that were killed before they could clean up. */
export async function removeAbandonedClusters(): Promise<void> {
  if (!existsSync(testDataRoot)) return;
  // Only run-<pid> folders: each holds one test run's cluster and pods, and its owner's pid says if it is abandoned.
  for (const entry of readdirSync(testDataRoot).filter((name) => name.startsWith("run-"))) {
    const owner = Number.parseInt(entry.replace(/^run-/, ""), 10);
    if (Number.isInteger(owner) && isAlive(owner)) continue;
    const pidFile = join(testDataRoot, entry, "cluster", "postmaster.pid");
    if (existsSync(pidFile)) {
      const pid = Number.parseInt(readFileSync(pidFile, "utf8").split("\n")[0] ?? "", 10);
      if (pid > 0 && isAlive(pid)) {
        process.kill(pid, "SIGQUIT");
        await waitForExit(pid, 5_000);
      }
    }
    rmSync(join(testDataRoot, entry), { recursive: true, force: true });
  }
}

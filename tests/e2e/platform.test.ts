/**
 * The platform's lifecycle as a user lives it: `npm start`, Ctrl-C, start
 * again on the same data, and a supervisor killed with `kill -9`.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { randomBase62 } from "../../src/ids";
import { isAlive } from "../../src/platform/embedded-postgres";
import { type CliRunner, cliRunner, isPortOpen, newDataDir, type Platform, removeDataDir, startPlatform, waitUntil } from "../support/platform";

const TIMEOUT = 120_000;
const PASSWORD = "correct horse battery staple";
const dataDirs: string[] = [];
const runners: CliRunner[] = [];

afterAll(async () => {
  for (const runner of runners) runner.cleanup();
  // removeDataDir stops a supervisor (and a PostgreSQL) a failed test left running.
  for (const dir of dataDirs) await removeDataDir(dir);
}, 120_000);

function dataDir(): string {
  const dir = newDataDir();
  dataDirs.push(dir);
  return dir;
}

function cli(platform: Platform): CliRunner {
  const runner = cliRunner(platform.url);
  runners.push(runner);
  return runner;
}

async function signUp(platform: Platform): Promise<string> {
  const email = `life-${randomBase62(8).toLowerCase()}@example.com`;
  const result = await cli(platform)(["signup", "--email", email, "--password-stdin", "--json"], { stdin: PASSWORD });
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
  return email;
}

/** Signing in from a new terminal works, so the user (and the database holding it) survived. */
async function expectCanLogIn(platform: Platform, email: string) {
  const result = await cli(platform)(["login", "--email", email, "--password-stdin", "--json"], { stdin: PASSWORD });
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
  expect(JSON.parse(result.stdout).email).toBe(email);
}

const commandLine = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
};

/** The supervisor's children by what they run. */
function children(platform: Platform) {
  const pids = platform.descendants();
  const running = (fragment: string) => pids.filter((pid) => commandLine(pid).includes(fragment));
  return { all: pids, api: running("server/api.ts"), workers: running("workers/main.ts"), postgres: running("bin/postgres") };
}

/** Who the platform's processes are connected to its database as, seen by the superuser. */
async function databaseUsers(platform: Platform): Promise<string[]> {
  const password = readFileSync(join(platform.dataDir, "postgres", "password"), "utf8").trim();
  const superuser = postgres(`postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${platform.pgPort}/qdz`, { max: 1, onnotice: () => {} });
  try {
    const rows = await superuser<{ usename: string }[]>`
      select distinct usename from pg_stat_activity where datname = 'qdz' and backend_type = 'client backend' and pid <> pg_backend_pid()`;
    return rows.map((row) => row.usename);
  } finally {
    await superuser.end();
  }
}

test(
  "start, healthy and ready, Ctrl-C: exits 0, ports closed, no process left",
  async () => {
    const dir = dataDir();
    const platform = await startPlatform(dir);
    expect(platform.url).toBe(`http://localhost:${platform.port}`);

    const health = await fetch(`${platform.url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${platform.url}/readyz`);
    expect(ready.status).toBe(200);
    expect((await ready.json()).status).toBe("ready");

    // The api and workers connect as the app role, never as the owner or the superuser (whose password is in the data dir).
    expect(await databaseUsers(platform)).toEqual(["qdz_app"]);
    expect(platform.output()).not.toContain("WARNING");

    const processes = children(platform);
    expect(processes.api).toHaveLength(1);
    expect(processes.workers).toHaveLength(1);
    expect(processes.postgres.length).toBeGreaterThanOrEqual(1);
    expect(await isPortOpen(platform.pgPort)).toBe(true);

    await platform.stop();
    expect(await platform.exited).toBe(0);
    expect(platform.output()).toContain("[qdz] stopped");
    expect(await isPortOpen(platform.port)).toBe(false);
    expect(await isPortOpen(platform.pgPort)).toBe(false);
    expect(processes.all.filter(isAlive).map(commandLine)).toEqual([]);
    expect(existsSync(join(dir, "supervisor.pid"))).toBe(false);
  },
  TIMEOUT,
);

test(
  "a second start on the same data dir keeps the data",
  async () => {
    const dir = dataDir();
    const first = await startPlatform(dir);
    const email = await signUp(first);
    await first.stop();

    const second = await startPlatform(dir);
    expect(second.output()).not.toContain("recovering");
    await expectCanLogIn(second, email);
    await second.stop();
  },
  TIMEOUT,
);

test(
  "kill -9 of the supervisor: children exit on their own, the next start recovers with the data",
  async () => {
    const dir = dataDir();
    const first = await startPlatform(dir);
    const email = await signUp(first);
    const processes = children(first);

    await first.kill();
    await waitUntil("the api port closes", async () => !(await isPortOpen(first.port)), 5_000);
    await waitUntil("the api and workers exit", () => ![...processes.api, ...processes.workers].some(isAlive), 5_000);
    expect(first.output()).not.toContain("[qdz] stopped");
    expect(existsSync(join(dir, "supervisor.pid"))).toBe(true);

    const second = await startPlatform(dir);
    expect(second.output()).toContain("an earlier run did not stop cleanly; recovering");
    await expectCanLogIn(second, email);
    await second.stop();
    expect(processes.all.filter(isAlive).map(commandLine)).toEqual([]);
  },
  TIMEOUT,
);

test(
  "a second supervisor on a data dir in use refuses to start",
  async () => {
    const dir = dataDir();
    const first = await startPlatform(dir);
    await expect(startPlatform(dir)).rejects.toThrow(/already running \(pid \d+\)/);
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
    await first.stop();
  },
  TIMEOUT,
);

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import postgres from "postgres";
import { projectRoot } from "../../src/config";
import { randomBase62 } from "../../src/ids";
import { ensureLoginRole, type RoleAccess, withCredentials } from "../../src/platform/database-roles";
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

/** Where preload.ts leaves the test run's TestRoles for support/db.ts (JSON). */
export const TEST_ROLES_ENV = "QDZ_TEST_PG_ROLES";

export interface TestRoles {
  /** Runs the migrations and owns every test database's objects. */
  owner: RoleAccess;
  /** What tests connect as by default, as the api and workers do: rows only, no ownership, no superuser. */
  app: RoleAccess;
  /** Set when DATABASE_URL's server would not give us an app role: `app` is then the owner, and role tests skip with this. */
  unavailable: string | null;
}

export function testRoles(): TestRoles {
  const json = process.env[TEST_ROLES_ENV];
  if (!json) throw new Error("tests/preload.ts did not run: run tests with `bun test` from the project root.");
  return JSON.parse(json);
}

/** The app role made on DATABASE_URL's server; a name of its own, so a real qdz_app there is left alone. */
const EXTERNAL_APP_ROLE = "qdz_test_app";

/**
 * With DATABASE_URL (a server of your own): its user owns the test databases,
 * and the app role is made when that user may (superuser, or CREATEROLE).
 * Otherwise the suite runs as that one user and says why.
 */
export async function externalTestRoles(baseUrl: string): Promise<TestRoles> {
  const admin = postgres(`${baseUrl}/postgres`, { max: 1, onnotice: () => {} });
  try {
    const [me] = await admin<{ name: string }[]>`select current_user as name`;
    const owner = { name: me!.name, baseUrl };
    const app = { name: EXTERNAL_APP_ROLE, password: externalAppPassword() };
    try {
      await ensureLoginRole(admin, app);
      const appBaseUrl = withCredentials(baseUrl, app);
      const probe = postgres(`${appBaseUrl}/postgres`, { max: 1, onnotice: () => {} });
      await probe`select 1`.finally(() => probe.end());
      return { owner, app: { name: app.name, baseUrl: appBaseUrl }, unavailable: null };
    } catch (error) {
      return {
        owner,
        app: owner,
        unavailable:
          `DATABASE_URL's user ${me!.name} could not make or log in as the role ${EXTERNAL_APP_ROLE} (${(error as Error).message}); ` +
          `tests run as ${me!.name} and the database-role tests are skipped. Give ${me!.name} CREATEROLE to run them.`,
      };
    }
  } finally {
    await admin.end();
  }
}

/** Kept between runs, so concurrent runs on one server agree on it. */
function externalAppPassword(): string {
  const file = join(testDataRoot, "external-app-password");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(testDataRoot, { recursive: true });
  const password = randomBase62(32);
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

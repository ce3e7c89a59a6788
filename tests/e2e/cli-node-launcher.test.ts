/**
 * `qdz` on a machine with Node and npm but no Bun on the PATH: what `npm link`
 * installs (package.json's "bin", reached through a symlink) runs the CLI under
 * the project's own Bun, with the user's arguments, directory, exit codes and
 * signals. Every run here has a PATH of Node's directory, /usr/bin and /bin.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import packageJson from "../../package.json";
import { NOT_SIGNED_IN } from "../../src/cli/errors";

const projectRoot = join(import.meta.dir, "../..");
const launcher = join(projectRoot, packageJson.bin.qdz);
const node = Bun.which("node");
if (!node) throw new Error("these tests run the launcher under Node, and there is no `node` on the PATH");
const PATH = [...new Set([dirname(node), "/usr/bin", "/bin"])].join(":");

const scratch = mkdtempSync(join(tmpdir(), "qdz-launcher-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Only what a user's shell would pass, with a server that is not there: no Bun's variables leak in. */
const env = { PATH, HOME: scratch, QDZ_CONFIG_DIR: join(scratch, "config"), QDZ_URL: "http://127.0.0.1:1" };

async function run(command: string[], cwd = scratch, extraEnv: Record<string, string> = {}) {
  const child = Bun.spawn(command, { cwd, env: { ...env, ...extraEnv }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

/** The pids whose parent is `pid`, from /proc (Linux). */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so fields are counted after its last ")".
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) found.push(Number(entry));
    } catch {
      // The process ended while the list was read.
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("the PATH these tests use has Node and no Bun", () => {
  expect(Bun.which("node", { PATH })).toBe(node);
  expect(Bun.which("bun", { PATH })).toBeNull();
});

describe("node <launcher> runs the CLI under the project's Bun", () => {
  test("--version and --help print the CLI's output and exit 0", async () => {
    const version = await run([node, launcher, "--version"]);
    expect(version).toEqual({ code: 0, stdout: `${packageJson.version}\n`, stderr: "" });

    const help = await run([node, launcher, "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toStartWith("Usage: qdz [options] [command]\n\nCommand-line client of QDivZero Compute.\n");
    expect(help.stderr).toBe("");
  });

  test("the CLI's exit codes come through: 2 for a wrong command line, 1 for a refusal", async () => {
    const unknown = await run([node, launcher, "nope"]);
    expect(unknown).toEqual({ code: 2, stdout: "", stderr: "error: unknown command 'nope'\n" });

    const whoami = await run([node, launcher, "whoami"]);
    expect(whoami).toEqual({ code: 1, stdout: "", stderr: `error: ${NOT_SIGNED_IN}\n` });
  });
});

describe("through a symlink, as `npm link` and npm's bin shims install it", () => {
  const bin = join(scratch, "bin");
  mkdirSync(bin);
  symlinkSync(launcher, join(bin, "qdz"));
  const qdz = join(bin, "qdz");

  test("the symlink runs by its own shebang and finds the project's Bun", async () => {
    const version = await run([qdz, "--version"]);
    expect(version).toEqual({ code: 0, stdout: `${packageJson.version}\n`, stderr: "" });
    expect((await run([qdz, "nope"])).code).toBe(2);
  });

  test("it finds the project from the real file even when Node keeps the symlink's path", async () => {
    const version = await run([qdz, "--version"], scratch, { NODE_OPTIONS: "--preserve-symlinks-main" });
    expect(version).toEqual({ code: 0, stdout: `${packageJson.version}\n`, stderr: "" });
  });

  test("a relative path means the user's directory, not the project's", async () => {
    const home = join(scratch, "home");
    mkdirSync(home);
    // A file the CLI refuses before any network: proof it read this one.
    writeFileSync(join(home, "id_ed25519.pub"), "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    const added = await run([qdz, "ssh-keys", "add", "id_ed25519.pub"], home);
    expect(added.code).toBe(1);
    expect(added.stderr).toStartWith("error: This is a private key, and it stays on this machine.");
  });

  test.skipIf(process.platform !== "linux")("SIGTERM sent to qdz alone reaches the CLI, and qdz ends by it", async () => {
    // `login --password-stdin` waits on stdin, which this test keeps open.
    const child = Bun.spawn([qdz, "login", "--email", "ada@example.com", "--password-stdin"], {
      cwd: scratch,
      env,
      stdin: "pipe",
      stdout: "ignore",
      stderr: "pipe",
    });
    let cli: number | undefined;
    for (let waited = 0; cli === undefined && waited < 10_000; waited += 50) {
      cli = childrenOf(child.pid)[0];
      if (cli === undefined) await Bun.sleep(50);
    }
    expect(cli).toBeNumber();

    child.kill("SIGTERM");
    await child.exited;
    expect(child.signalCode).toBe("SIGTERM");
    // The launcher reaps the CLI before it ends, so the CLI is gone, not orphaned.
    expect(alive(cli!)).toBe(false);
  });
});

test("without the project's Bun or one on the PATH, qdz says to run npm install", async () => {
  // The launcher alone in a checkout whose `npm install` never ran.
  const checkout = join(scratch, "clone");
  mkdirSync(join(checkout, "src/cli"), { recursive: true });
  copyFileSync(launcher, join(checkout, "src/cli/launcher.mjs"));
  const result = await run([node, join(checkout, "src/cli/launcher.mjs"), "--version"]);
  expect(result.code).toBe(127);
  expect(result.stdout).toBe("");
  expect(result.stderr).toBe(`qdz runs on Bun, and there is none in ${join(checkout, "node_modules")} or on the PATH.\nRun \`npm install\` in ${checkout}.\n`);
});

/**
 * The README's REST walk (tests/rest-walk.sh: launch, wait for running, chat, metered, stop) run with curl
 * against the platform started as the README starts it, with a key and credit got as a user gets them.
 */
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "../../src/cli/client";
import { CredentialStore } from "../../src/cli/credentials";
import { projectRoot } from "../../src/config";
import { randomBase62 } from "../../src/ids";
import { parsed } from "../support/cli-results";
import { platformForFile } from "../support/platform";

const platform = platformForFile();
let apiKey = "";

/** The README's Python example, as a reader would copy it. */
function readmePython(): string {
  const readme = readFileSync(join(projectRoot, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## REST API"));
  return /```python\n([\s\S]*?)```/.exec(section)![1]!;
}

test("the curl walk runs from the README against a started platform", async () => {
  const cli = platform.cli();
  const email = `walk-${randomBase62(8).toLowerCase()}@example.com`;
  parsed(await cli(["signup", "--email", email, "--password-stdin", "--json"], { stdin: "correct horse battery staple\n" }));
  const browser = createClient(platform.url, new CredentialStore(cli.configDir).get(platform.url)!.token);
  const { id } = parsed(await cli(["topup", "10", "--json"]));
  await browser.billing.completeDevCheckout.mutate({ id, outcome: "pay" });
  const { secret } = parsed(await cli(["keys", "create", "walk", "--scope", "full", "--json"]));
  apiKey = secret;

  const walk = Bun.spawn(["bash", join(projectRoot, "tests", "rest-walk.sh")], {
    env: { ...process.env, QDZ_URL: platform.url, QDZ_API_KEY: secret },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(walk.stdout).text(), new Response(walk.stderr).text(), walk.exited]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  expect(stdout).toContain("state: running");
  expect(stdout).toMatch(/chat: \S/);
  expect(stdout).toMatch(/metered: \{"instance_id":"inst_/);
  expect(stdout).toContain("stopped: stopping");
  expect(stdout).toMatch(/walk: ok inst_/);
}, 180_000);

// Python 3 with `requests`: Debian's python3-requests, which .ci/run installs with the other test packages.
test("the README's Python example runs the same walk", async () => {
  expect(apiKey).not.toBe("");
  const dir = mkdtempSync(join(tmpdir(), "qdz-walk-"));
  try {
    writeFileSync(join(dir, "walk.py"), readmePython());
    const walk = Bun.spawn(["python3", join(dir, "walk.py")], {
      env: { ...process.env, QDZ_URL: platform.url, QDZ_API_KEY: apiKey },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([new Response(walk.stdout).text(), new Response(walk.stderr).text(), walk.exited]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const lines = stdout.trim().split("\n");
    expect(lines.at(-1)).toBe("stopping");
    expect(lines.at(-2)).toContain("'instance_id': 'inst_");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

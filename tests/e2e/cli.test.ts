/**
 * `qdz` against the real platform, started once for this file the way the
 * README starts it. Every test is one user on one machine (its own config dir).
 */
import { describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sshpk from "sshpk";
import { randomBase62 } from "../../src/ids";
import { expectCopy, failed, parsed } from "../support/cli-results";
import { freePort } from "../support/cluster";
import { type CliRunner, platformForFile } from "../support/platform";

const TIMEOUT = 60_000;
const NOT_SIGNED_IN = "Not signed in. Run `qdz login` (or set QDZ_API_KEY).";
const platform = platformForFile();

/** A new person at a new terminal. */
function newCli(url?: string): CliRunner {
  return platform.cli(url);
}

const newEmail = () => `cli-${randomBase62(8).toLowerCase()}@example.com`;
const PASSWORD = "correct horse battery staple";

async function signUp(cli: CliRunner, email = newEmail()) {
  const user = parsed(await cli(["signup", "--email", email, "--password-stdin", "--json"], { stdin: `${PASSWORD}\n` }));
  expectCopy(user).toMatchObject({ email, userId: expect.stringMatching(/^usr_/), accountId: expect.stringMatching(/^acct_/) });
  return user as { email: string; userId: string; accountId: string };
}

function ed25519PublicKey(comment: string) {
  const { publicKey } = generateKeyPairSync("ed25519");
  const key = sshpk.parseKey(publicKey.export({ type: "spki", format: "pem" }).toString(), "pem");
  key.comment = comment; // otherwise sshpk writes "(unnamed)"
  return { line: key.toString("ssh"), fingerprint: key.fingerprint("sha256").toString() };
}

describe("a script signs up and manages API keys", () => {
  test(
    "signup, whoami, create a key, list it, use it, revoke it",
    async () => {
      const cli = newCli();
      const { email, accountId } = await signUp(cli);

      const me = parsed(await cli(["whoami", "--json"]));
      expectCopy(me).toMatchObject({ kind: "user", email, accountId, role: "owner", apiKey: null, source: "stored", url: platform.url });
      const accountName: string = me.accountName;
      expect(accountName).toBeString();
      const human = await cli(["whoami"]);
      expect(human.code).toBe(0);
      expect(human.stdout).toBe(`Signed in to ${platform.url} as ${email}.\naccount:  ${accountName} (${accountId})\nrole:     owner\n`);

      const created = parsed(await cli(["keys", "create", "ci", "--json"]));
      expect(created.secret).toMatch(/^qdz_[0-9A-Za-z]{43}$/);
      expectCopy(created.key).toMatchObject({ name: "ci", id: expect.stringMatching(/^key_/), scope: "inference", revokedAt: null });
      const secret: string = created.secret;

      const listed = parsed<any[]>(await cli(["keys", "list", "--json"]));
      expect(listed.map((key) => key.id)).toEqual([created.key.id]);
      expect(secret.startsWith(listed[0].prefix)).toBe(true);
      const table = await cli(["keys", "list"]);
      expect(table.code).toBe(0);
      expect(table.stdout).toContain(created.key.prefix);
      expect(table.stdout).toContain("active");
      expect(table.stdout).toMatch(/LAST USED +REQUESTS +STATUS\n.* never +0 +active\n/);
      expect(table.stdout).toMatch(/PREFIX +SCOPE +CREATED .*\n.*… +inference +\d{4}-/);
      expect(listed[0].requestCount).toBe(0);
      for (const output of [JSON.stringify(listed), table.stdout, table.stderr]) expect(output).not.toContain(secret);

      // The owner made the key, but the key is not the owner: it is named with its scope, and no role is printed.
      const asKey = parsed(await cli(["whoami", "--json"], { env: { QDZ_API_KEY: secret } }));
      expectCopy(asKey).toMatchObject({
        kind: "apiKey",
        accountId,
        accountName,
        email: null,
        apiKey: { id: created.key.id, name: "ci", prefix: created.key.prefix, scope: "inference" },
        source: "env",
      });
      const keyHuman = await cli(["whoami"], { env: { QDZ_API_KEY: secret } });
      expect(keyHuman.code).toBe(0);
      expect(keyHuman.stdout).toBe(
        `Acting as the API key ${created.key.id} 'ci' (scope: inference) of account ${accountName} (${accountId}) on ${platform.url} (the key comes from QDZ_API_KEY).\n`,
      );
      expect(keyHuman.stdout).not.toContain("role");

      // A stored key says the same, with its own scope.
      const reader = parsed(await cli(["keys", "create", "dashboard", "--scope", "read", "--json"]));
      const elsewhere = newCli();
      expectCopy(parsed(await elsewhere(["login", "--api-key-stdin", "--json"], { stdin: reader.secret }))).toMatchObject({
        kind: "apiKey",
        accountId,
        scope: "read",
      });
      expect((await elsewhere(["whoami"])).stdout).toBe(
        `Acting as the API key ${reader.key.id} 'dashboard' (scope: read) of account ${accountName} (${accountId}) on ${platform.url}.\n`,
      );
      parsed(await cli(["keys", "revoke", reader.key.id, "--json"]));

      const revoked = parsed(await cli(["keys", "revoke", created.key.id, "--json"]));
      expectCopy(revoked).toMatchObject({ id: created.key.id, revokedAt: expect.any(String) });

      const refused = await cli(["whoami"], { env: { QDZ_API_KEY: secret } });
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe("");
      expect(refused.stderr).toBe("error: This API key is not valid or was revoked. (The key comes from QDZ_API_KEY.)\n");
      expect(failed(await cli(["keys", "list", "--json"], { env: { QDZ_API_KEY: secret } })).code).toBe("UNAUTHORIZED");

      const afterRevoke = await cli(["keys", "list"]);
      expect(afterRevoke.stdout).toMatch(/revoked \d{4}-\d\d-\d\d/);
    },
    TIMEOUT,
  );

  test(
    "keys create prints the secret alone on stdout, the notice on stderr",
    async () => {
      const cli = newCli();
      await signUp(cli);
      const result = await cli(["keys", "create", "laptop"]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^qdz_[0-9A-Za-z]{43}\n$/);
      expect(result.stderr).toContain("not shown again");
    },
    TIMEOUT,
  );

  test(
    "revoking an unknown or malformed id fails clearly",
    async () => {
      const cli = newCli();
      await signUp(cli);
      const unknown = failed(await cli(["keys", "revoke", `key_${randomBase62(20)}`, "--json"]));
      expect(unknown.code).toBe("NOT_FOUND");
      const malformed = await cli(["keys", "revoke", "nope"]);
      expect(malformed.code).toBe(1);
      expect(malformed.stderr).toContain("Not an API key id.");
    },
    TIMEOUT,
  );

  test(
    "an empty key name is refused with the server's message",
    async () => {
      const cli = newCli();
      await signUp(cli);
      const error = failed(await cli(["keys", "create", " ", "--json"]));
      expectCopy(error).toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("Give the key a name") });
    },
    TIMEOUT,
  );
});

describe("ssh-keys", () => {
  test(
    "add from stdin, list shows the fingerprint, a bad key is refused, remove",
    async () => {
      const cli = newCli();
      await signUp(cli);
      const key = ed25519PublicKey("e2e@laptop");

      const added = parsed(await cli(["ssh-keys", "add", "-", "--json"], { stdin: `${key.line}\n` }));
      expectCopy(added).toMatchObject({ fingerprint: key.fingerprint, name: "e2e@laptop", algorithm: "ssh-ed25519" });

      const listed = parsed<any[]>(await cli(["ssh-keys", "list", "--json"]));
      expect(listed.map((row) => row.fingerprint)).toEqual([key.fingerprint]);
      const table = await cli(["ssh-keys", "list"]);
      expect(table.stdout).toContain(key.fingerprint);

      const again = await cli(["ssh-keys", "add", "-"], { stdin: key.line });
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("already added");

      const badFile = join(cli.configDir, "bad.pub");
      writeFileSync(badFile, "ssh-ed25519 this-is-not-a-key me@laptop\n");
      const bad = await cli(["ssh-keys", "add", badFile]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toBe("error: This is not a valid SSH public key. Expected a line like 'ssh-ed25519 AAAAC3Nz… you@laptop'.\n");
      expect(failed(await cli(["ssh-keys", "add", badFile, "--json"])).code).toBe("BAD_REQUEST");

      const named = join(cli.configDir, "named.pub");
      const other = ed25519PublicKey("");
      writeFileSync(named, `${other.line.trim()}\n`);
      expectCopy(parsed(await cli(["ssh-keys", "add", named, "--name", "build box", "--json"]))).toMatchObject({ name: "build box" });

      expect(parsed(await cli(["ssh-keys", "remove", added.id, "--json"]))).toEqual({ ok: true, id: added.id });
      const remaining = parsed<any[]>(await cli(["ssh-keys", "list", "--json"]));
      expect(remaining.map((row) => row.fingerprint)).toEqual([other.fingerprint]);
      expect(failed(await cli(["ssh-keys", "remove", added.id, "--json"])).code).toBe("NOT_FOUND");
    },
    TIMEOUT,
  );

  test(
    "a private key never leaves the machine; a missing file is named",
    async () => {
      const cli = newCli();
      await signUp(cli);
      const { privateKey } = generateKeyPairSync("ed25519");
      const file = join(cli.configDir, "id_ed25519");
      writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }).toString());
      const refused = await cli(["ssh-keys", "add", file]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("This is a private key");
      expect(refused.stderr).toContain(`${file}.pub`);

      const missing = await cli(["ssh-keys", "add", join(cli.configDir, "nope.pub")]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("no such file");
    },
    TIMEOUT,
  );
});

describe("signing in and out", () => {
  test(
    "logout ends the session; whoami then says not signed in; login works again",
    async () => {
      const cli = newCli();
      const { email } = await signUp(cli);
      const stored = JSON.parse(readFileSync(join(cli.configDir, "credentials.json"), "utf8"));
      const token: string = Object.values<any>(stored.servers)[0].token;
      expect(token).toMatch(/^qdzs_/);
      expect(statSync(join(cli.configDir, "credentials.json")).mode & 0o777).toBe(0o600);

      expectCopy(parsed(await cli(["logout", "--json"]))).toMatchObject({ signedOut: true, sessionEnded: true });
      const whoami = await cli(["whoami"]);
      expect(whoami).toEqual({ code: 1, stdout: "", stderr: `error: ${NOT_SIGNED_IN}\n` });
      expect(failed(await cli(["whoami", "--json"]))).toEqual({ message: NOT_SIGNED_IN, code: "NOT_SIGNED_IN" });
      // The old token no longer works on the server either.
      expect(failed(await cli(["whoami", "--json"], { env: { QDZ_API_KEY: token } })).code).toBe("UNAUTHORIZED");
      expectCopy(parsed(await cli(["logout", "--json"]))).toMatchObject({ signedOut: false });

      const login = parsed(await cli(["login", "--email", email.toUpperCase(), "--password-stdin", "--json"], { stdin: PASSWORD }));
      expectCopy(login).toMatchObject({ kind: "session", email });
      expectCopy(parsed(await cli(["whoami", "--json"]))).toMatchObject({ kind: "user", email });

      const human = await cli(["login", "--email", email, "--password", PASSWORD]);
      expect(human.code).toBe(0);
      expect(human.stdout).toContain(`as ${email}`);
    },
    TIMEOUT,
  );

  test(
    "a wrong password exits 1 with the server's message",
    async () => {
      const cli = newCli();
      const { email } = await signUp(cli);
      const other = newCli();
      const wrong = await other(["login", "--email", email, "--password", "not the password"]);
      expect(wrong).toEqual({ code: 1, stdout: "", stderr: "error: Email or password is incorrect.\n" });
      expect(failed(await other(["login", "--email", email, "--password", "not the password", "--json"]))).toEqual({
        message: "Email or password is incorrect.",
        code: "UNAUTHORIZED",
      });
    },
    TIMEOUT,
  );

  test(
    "signing up with an existing email is a clear conflict",
    async () => {
      const cli = newCli();
      const { email } = await signUp(cli);
      const again = await newCli()(["signup", "--email", email, "--password", PASSWORD]);
      expect(again).toEqual({ code: 1, stdout: "", stderr: "error: An account with this email already exists. Sign in instead.\n" });
    },
    TIMEOUT,
  );

  test(
    "signup validation comes from the server",
    async () => {
      const error = failed(await newCli()(["signup", "--email", newEmail(), "--password", "short", "--json"]));
      expectCopy(error).toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("at least 10 characters") });
    },
    TIMEOUT,
  );

  test(
    "login --api-key-stdin stores a key; logout forgets it",
    async () => {
      const owner = newCli();
      const { accountId } = await signUp(owner);
      // 'read', so the key may list keys below; `keys list` shows the scope.
      const { secret, key } = parsed(await owner(["keys", "create", "ci", "--scope", "read", "--json"]));
      expect(key.scope).toBe("read");
      expect((await owner(["keys", "list"])).stdout).toMatch(/… +read +\d{4}-/);

      const ci = newCli();
      const login = parsed(await ci(["login", "--api-key-stdin", "--json"], { stdin: `${secret}\n` }));
      expectCopy(login).toMatchObject({ kind: "apiKey", accountId });
      expectCopy(parsed(await ci(["whoami", "--json"]))).toMatchObject({ kind: "apiKey", source: "stored", accountId });
      expect(parsed(await ci(["keys", "list", "--json"])).length).toBe(1);
      // A key never makes keys, whatever its scope.
      expect(failed(await ci(["keys", "create", "child", "--scope", "read", "--json"]))).toMatchObject({
        code: "FORBIDDEN",
        message: expect.stringContaining("signed-in person"),
      });

      const typo = await ci(["login", "--api-key", `qdz_${randomBase62(43)}`]);
      expect(typo.code).toBe(1);
      expect(typo.stderr).toContain("not valid");
      // A refused key never replaces the working one.
      expectCopy(parsed(await ci(["whoami", "--json"]))).toMatchObject({ kind: "apiKey" });

      expectCopy(parsed(await ci(["logout", "--json"]))).toMatchObject({ signedOut: true, sessionEnded: false });
      expect(failed(await ci(["whoami", "--json"])).code).toBe("NOT_SIGNED_IN");
    },
    TIMEOUT,
  );
});

describe("usage and connection errors", () => {
  test(
    "missing flags without a terminal, conflicting flags and unknown commands exit 2",
    async () => {
      const cli = newCli();
      const missing = await cli(["signup", "--email", newEmail()]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("Missing --password or --password-stdin");
      expect(failed(await cli(["login", "--api-key", "qdz_x", "--api-key-stdin", "--json"], { stdin: "qdz_y" }), 2).code).toBe("USAGE");
      expect(failed(await cli(["keys", "revoke", "--json"]), 2).code).toBe("USAGE");
      const unknown = await cli(["frobnicate"]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain("unknown command 'frobnicate'");
      expect((await cli(["--help"])).code).toBe(0);
    },
    TIMEOUT,
  );

  test(
    "an unreachable server is named in the message",
    async () => {
      const url = `http://127.0.0.1:${await freePort()}`;
      const cli = newCli(url);
      const result = await cli(["login", "--email", newEmail(), "--password", PASSWORD]);
      expect(result.code).toBe(1);
      expect(result.stderr).toStartWith(`error: Cannot reach QDivZero Compute at ${url}`);
      expect(failed(await cli(["whoami", "--json"], { env: { QDZ_API_KEY: `qdz_${randomBase62(43)}` } })).code).toBe("UNREACHABLE");
    },
    TIMEOUT,
  );
});

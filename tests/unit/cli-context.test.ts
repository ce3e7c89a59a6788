import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliContext } from "../../src/cli/context";
import { CliError, UsageError } from "../../src/cli/errors";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function env(extra: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "qdz-context-"));
  dirs.push(dir);
  return { QDZ_CONFIG_DIR: dir, ...extra };
}

const session = { kind: "session" as const, token: "qdzs_abc", email: "a@example.com", savedAt: "2025-01-01T00:00:00.000Z" };

test("the server: --url, then QDZ_URL, then localhost:3000, without a trailing slash", () => {
  expect(new CliContext({}, env()).url).toBe("http://localhost:3000");
  expect(new CliContext({}, env({ QDZ_URL: "https://qdz.example.com/" })).url).toBe("https://qdz.example.com");
  expect(new CliContext({ url: "http://127.0.0.1:4000" }, env({ QDZ_URL: "https://qdz.example.com" })).url).toBe("http://127.0.0.1:4000");
});

test("a QDZ_URL that is not an http(s) URL is a usage error", () => {
  expect(() => new CliContext({}, env({ QDZ_URL: "localhost:3000" }))).toThrow(UsageError);
  expect(() => new CliContext({}, env({ QDZ_URL: "not a url" }))).toThrow("QDZ_URL is not a URL");
});

test("QDZ_API_KEY wins over the stored credential", () => {
  const variables = env();
  new CliContext({}, variables).store.set("http://localhost:3000", session);
  expect(new CliContext({}, variables).credential()).toEqual({ source: "stored", ...session });
  expect(new CliContext({}, { ...variables, QDZ_API_KEY: "qdz_env" }).credential()).toEqual({ source: "env", kind: "apiKey", token: "qdz_env" });
});

test("no credential: signedIn() says how to sign in", () => {
  expect(() => new CliContext({}, env()).signedIn()).toThrow("Not signed in. Run `qdz login` (or set QDZ_API_KEY).");
});

test("a refused credential's message says where it came from", () => {
  const refused = new CliError("This API key is not valid or was revoked.", "UNAUTHORIZED");
  const fromEnv = new CliContext({}, env({ QDZ_API_KEY: "qdz_env" }));
  fromEnv.signedIn();
  expect(fromEnv.explain(refused).message).toBe("This API key is not valid or was revoked. (The key comes from QDZ_API_KEY.)");

  const variables = env();
  const stored = new CliContext({}, variables);
  stored.store.set(stored.url, session);
  stored.signedIn();
  expect(stored.explain(new CliError("This session has ended. Sign in again.", "UNAUTHORIZED")).message).toBe(
    "This session has ended. Sign in again. Run `qdz login`.",
  );
  // Other errors, and calls made without a credential (a wrong password), are left alone.
  expect(stored.explain(new CliError("Not found.", "NOT_FOUND")).message).toBe("Not found.");
  expect(new CliContext({}, variables).explain(refused)).toBe(refused);
});

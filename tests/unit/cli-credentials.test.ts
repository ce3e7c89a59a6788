import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CredentialStore, configDir, serverKey } from "../../src/cli/credentials";
import { CliError } from "../../src/cli/errors";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A store in a directory that does not exist yet, as on a new machine. */
function newStore(): CredentialStore {
  const dir = mkdtempSync(join(tmpdir(), "qdz-credentials-"));
  dirs.push(dir);
  return new CredentialStore(join(dir, "config", "qdz"));
}

const session = { kind: "session" as const, token: "qdzs_abc", email: "a@example.com", savedAt: "2025-01-01T00:00:00.000Z" };
const apiKey = { kind: "apiKey" as const, token: "qdz_def", savedAt: "2025-01-02T00:00:00.000Z" };

describe("configDir", () => {
  test("QDZ_CONFIG_DIR, then XDG_CONFIG_HOME/qdz, then ~/.config/qdz", () => {
    expect(configDir({ QDZ_CONFIG_DIR: "/c", XDG_CONFIG_HOME: "/x" }, "/home/me")).toBe("/c");
    expect(configDir({ XDG_CONFIG_HOME: "/x" }, "/home/me")).toBe("/x/qdz");
    expect(configDir({}, "/home/me")).toBe("/home/me/.config/qdz");
  });

  test("empty variables count as unset", () => {
    expect(configDir({ QDZ_CONFIG_DIR: "", XDG_CONFIG_HOME: "" }, "/home/me")).toBe("/home/me/.config/qdz");
  });
});

describe("serverKey", () => {
  test("one spelling per server", () => {
    expect(serverKey("http://LOCALHOST:3000/")).toBe("http://localhost:3000");
    expect(serverKey("https://qdz.example.com:443/api//")).toBe("https://qdz.example.com/api");
  });
});

describe("CredentialStore", () => {
  test("round trip, keyed by server", () => {
    const store = newStore();
    expect(store.get("http://localhost:3000")).toBeNull();
    store.set("http://localhost:3000", session);
    store.set("https://qdz.example.com", apiKey);
    expect(store.get("http://localhost:3000/")).toEqual(session);
    expect(store.get("https://qdz.example.com")).toEqual(apiKey);
    expect(new CredentialStore(store.dir).get("http://localhost:3000")).toEqual(session);
  });

  test("delete removes one server's credential and says whether there was one", () => {
    const store = newStore();
    store.set("http://localhost:3000", session);
    store.set("https://qdz.example.com", apiKey);
    expect(store.delete("http://localhost:3000")).toBe(true);
    expect(store.delete("http://localhost:3000")).toBe(false);
    expect(store.get("http://localhost:3000")).toBeNull();
    expect(store.get("https://qdz.example.com")).toEqual(apiKey);
  });

  test("the file is 0600 in a 0700 directory, even if it was readable before", () => {
    const store = newStore();
    store.set("http://localhost:3000", session);
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    expect(statSync(store.dir).mode & 0o777).toBe(0o700);
    chmodSync(store.path, 0o644);
    store.set("http://localhost:3000", apiKey);
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
  });

  test("the file is plain JSON a person can read", () => {
    const store = newStore();
    store.set("http://localhost:3000", session);
    expect(JSON.parse(readFileSync(store.path, "utf8"))).toEqual({ version: 1, servers: { "http://localhost:3000": session } });
  });

  test("a damaged file is reported with its path, not overwritten", () => {
    const store = newStore();
    store.set("http://localhost:3000", session);
    writeFileSync(store.path, "{ not json");
    expect(() => store.get("http://localhost:3000")).toThrow(CliError);
    expect(() => store.set("http://localhost:3000", session)).toThrow(store.path);
    expect(readFileSync(store.path, "utf8")).toBe("{ not json");
    writeFileSync(store.path, "[]");
    expect(() => store.get("http://localhost:3000")).toThrow("not a qdz credentials file");
  });
});

import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { CliError } from "./errors";

/** A session from `qdz login` / `qdz signup`, or an API key from `qdz login --api-key`. */
export type StoredCredential = { kind: "session"; token: string; email: string; savedAt: string } | { kind: "apiKey"; token: string; savedAt: string };

interface CredentialsFile {
  version: 1;
  /** Keyed by server URL, so one machine can be signed in to several deployments. */
  servers: Record<string, StoredCredential>;
}

/** `$QDZ_CONFIG_DIR`, else `$XDG_CONFIG_HOME/qdz`, else `~/.config/qdz`. Empty values count as unset. */
export function configDir(env: Record<string, string | undefined>, home = homedir()): string {
  if (env.QDZ_CONFIG_DIR) return env.QDZ_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, "qdz");
  return join(home, ".config", "qdz");
}

/** One spelling per server: `http://LOCALHOST:3000/` and `http://localhost:3000` share a credential. */
export function serverKey(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, "")}`;
}

/** `credentials.json`: readable by its owner only, since it holds bearer secrets. */
export class CredentialStore {
  readonly path: string;

  constructor(readonly dir: string) {
    this.path = join(dir, "credentials.json");
  }

  get(url: string): StoredCredential | null {
    return this.read().servers[serverKey(url)] ?? null;
  }

  set(url: string, credential: StoredCredential): void {
    const file = this.read();
    file.servers[serverKey(url)] = credential;
    this.write(file);
  }

  /** Whether there was a credential to delete. */
  delete(url: string): boolean {
    const file = this.read();
    const key = serverKey(url);
    if (!(key in file.servers)) return false;
    delete file.servers[key];
    this.write(file);
    return true;
  }

  private read(): CredentialsFile {
    if (!existsSync(this.path)) return { version: 1, servers: {} };
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.path, "utf8"));
    } catch (error) {
      throw new CliError(`Cannot read ${this.path}: ${(error as Error).message}. Fix or delete it, then sign in again.`, "CREDENTIALS_UNREADABLE");
    }
    const servers = (parsed as Partial<CredentialsFile> | null)?.servers;
    if (typeof servers !== "object" || servers === null) {
      throw new CliError(`${this.path} is not a qdz credentials file. Fix or delete it, then sign in again.`, "CREDENTIALS_UNREADABLE");
    }
    return { version: 1, servers };
  }

  /** Written to a new 0600 file and renamed over the old one: never a moment with the secrets readable or half written. */
  private write(file: CredentialsFile): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    chmodSync(temporary, 0o600); // the mode above is filtered by the umask
    renameSync(temporary, this.path);
  }
}

import { type Client, createClient, DEFAULT_URL } from "./client";
import { CredentialStore, configDir, type StoredCredential } from "./credentials";
import { CliError, NOT_SIGNED_IN, UsageError } from "./errors";
import { Output } from "./output";

/** The credential a command runs with, and where it came from (for messages). */
export type ActiveCredential = { source: "env"; kind: "apiKey"; token: string } | ({ source: "stored" } & StoredCredential);

export interface GlobalOptions {
  json?: boolean;
  url?: string;
}

/** What every command gets: the server, the output, the credential store and clients for them. */
export class CliContext {
  readonly url: string;
  readonly out: Output;
  readonly store: CredentialStore;
  /** The credential of the last `signedIn()` client, so an UNAUTHORIZED answer can say which one failed. */
  usedCredential: ActiveCredential | null = null;

  constructor(
    options: GlobalOptions,
    private readonly env: Record<string, string | undefined> = process.env,
  ) {
    this.out = new Output(Boolean(options.json));
    this.url = serverUrl(options.url || env.QDZ_URL || DEFAULT_URL);
    this.store = new CredentialStore(configDir(env));
  }

  get keyFromEnv(): boolean {
    return Boolean(this.env.QDZ_API_KEY);
  }

  /** `QDZ_API_KEY` wins over the stored credential, so CI can run without touching the config dir. */
  credential(): ActiveCredential | null {
    if (this.env.QDZ_API_KEY) return { source: "env", kind: "apiKey", token: this.env.QDZ_API_KEY };
    const stored = this.store.get(this.url);
    return stored ? { source: "stored", ...stored } : null;
  }

  /** A client without credentials: signup and login must not send a stale one. */
  anonymous(): Client {
    return createClient(this.url);
  }

  withToken(token: string): Client {
    return createClient(this.url, token);
  }

  signedIn(): Client {
    const credential = this.credential();
    if (!credential) throw new CliError(NOT_SIGNED_IN, "NOT_SIGNED_IN");
    this.usedCredential = credential;
    return createClient(this.url, credential.token);
  }

  /** Adds to a refused credential's message what to do about it. */
  explain(error: CliError): CliError {
    const credential = this.usedCredential;
    if (error.code !== "UNAUTHORIZED" || !credential) return error;
    const hint =
      credential.source === "env"
        ? "(The key comes from QDZ_API_KEY.)"
        : credential.kind === "session"
          ? "Run `qdz login`."
          : "Run `qdz login` to replace the stored key.";
    return new CliError(`${error.message} ${hint}`, error.code, error.exitCode);
  }
}

function serverUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`QDZ_URL is not a URL: '${value}'. Expected something like ${DEFAULT_URL}.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`QDZ_URL must be http(s): '${value}'.`);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

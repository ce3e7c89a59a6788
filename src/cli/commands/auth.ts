import type { Command } from "commander";
import { action } from "../action";
import type { CliContext } from "../context";
import type { StoredCredential } from "../credentials";
import { CliError, toCliError, UsageError } from "../errors";
import { ask, readSecretFromStdin } from "../input";
import { renderFields } from "../output";

interface PasswordOptions {
  email?: string;
  password?: string;
  passwordStdin?: boolean;
}

interface SignupOptions extends PasswordOptions {
  accountName?: string;
}

interface LoginOptions extends PasswordOptions {
  apiKey?: string;
  apiKeyStdin?: boolean;
}

export function authCommands(program: Command): void {
  program
    .command("signup")
    .description("create a user with their own account, and sign in")
    .option("--email <email>", "your email address")
    .option("--password <password>", "your new password (other users of this machine can see it; prefer --password-stdin)")
    .option("--password-stdin", "read the password from stdin")
    .option("--account-name <name>", "name of the new account (default: from your email)")
    .action(action(signup));

  program
    .command("login")
    .description("sign in with email and password, or store an API key")
    .option("--email <email>", "your email address")
    .option("--password <password>", "your password (other users of this machine can see it; prefer --password-stdin)")
    .option("--password-stdin", "read the password from stdin")
    .option("--api-key <key>", "store this API key instead of signing in (prefer --api-key-stdin)")
    .option("--api-key-stdin", "read the API key from stdin")
    .action(action(login));

  program.command("logout").description("end the session and forget the stored credential").action(action(logout));
  program.command("whoami").description("show who the CLI acts as, and on which account").action(action(whoami));
}

async function signup(cli: CliContext, options: SignupOptions) {
  const email = options.email ?? (await ask({ message: "Email", flag: "--email" }));
  const password = await passwordFrom(options, true);
  const user = await cli.anonymous().auth.signup.mutate({ email, password, accountName: options.accountName, client: "cli" });
  await storeCredential(cli, { kind: "session", token: sessionToken(user.sessionToken), email: user.email, savedAt: now() });
  cli.out.result(
    { url: cli.url, userId: user.userId, accountId: user.accountId, email: user.email },
    (result) => `Signed up and signed in to ${result.url} as ${result.email} (account ${result.accountId}).`,
  );
}

async function login(cli: CliContext, options: LoginOptions) {
  if (options.apiKey !== undefined || options.apiKeyStdin) return loginWithApiKey(cli, options);
  const email = (options.email ?? (await ask({ message: "Email", flag: "--email" }))).trim().toLowerCase();
  const password = await passwordFrom(options, false);
  const session = await cli.anonymous().auth.login.mutate({ email, password, client: "cli" });
  await storeCredential(cli, { kind: "session", token: sessionToken(session.sessionToken), email, savedAt: now() });
  cli.out.result(
    { url: cli.url, kind: "session", email, userId: session.userId, accountId: session.accountId },
    (result) => `Signed in to ${result.url} as ${result.email}.`,
  );
}

async function loginWithApiKey(cli: CliContext, options: LoginOptions) {
  if (options.email || options.password || options.passwordStdin) throw new UsageError("Use an API key or email and password, not both.");
  if (options.apiKey !== undefined && options.apiKeyStdin) throw new UsageError("Use either --api-key or --api-key-stdin, not both.");
  const key = options.apiKeyStdin ? (await readSecretFromStdin("API key")).trim() : options.apiKey!.trim();
  if (!key.startsWith("qdz_")) throw new CliError("This is not a QDivZero API key: keys start with 'qdz_'.", "INVALID_INPUT");
  // Stored only once the server has accepted it, so a typo never replaces a working credential.
  const me = await cli.withToken(key).auth.me.query();
  if (me?.kind !== "apiKey") throw new CliError("The server did not accept this as an API key.", "UNAUTHORIZED");
  await storeCredential(cli, { kind: "apiKey", token: key, savedAt: now() });
  cli.out.result(
    { url: cli.url, kind: "apiKey", accountId: me.accountId, role: me.role, scope: me.apiKey?.scope ?? null },
    (result) =>
      `Stored the API key ${key.slice(0, 12)}… for ${result.url} (account ${me.accountName ? `${me.accountName} (${result.accountId})` : result.accountId}, scope: ${result.scope}).`,
  );
}

async function logout(cli: CliContext) {
  const stored = cli.store.get(cli.url);
  let sessionEnded = false;
  if (stored?.kind === "session") {
    try {
      await cli.withToken(stored.token).auth.logout.mutate();
      sessionEnded = true;
    } catch (error) {
      const reason = toCliError(error, cli.url);
      // Already ended (expired, signed out elsewhere) is what we wanted anyway.
      if (reason.code === "UNAUTHORIZED") sessionEnded = true;
      else cli.out.note(`warning: could not end the session on the server (${reason.message}); it expires on its own.`);
    }
  }
  if (stored) cli.store.delete(cli.url);
  if (cli.keyFromEnv) cli.out.note("QDZ_API_KEY is still set: commands keep using that key until you unset it.");
  cli.out.result({ url: cli.url, signedOut: stored !== null, sessionEnded }, (result) => {
    if (!stored) return `Not signed in to ${result.url}; nothing to do.`;
    if (stored.kind === "apiKey") return `Forgot the stored API key for ${result.url}. The key itself still works until you revoke it.`;
    return `Signed out of ${result.url}.`;
  });
}

async function whoami(cli: CliContext) {
  const me = await cli.signedIn().auth.me.query();
  if (!me) throw new CliError("The server does not know this credential.", "UNAUTHORIZED");
  const source = cli.usedCredential!.source;
  cli.out.result({ url: cli.url, source, ...me }, (result) => {
    const account = result.accountName ? `${result.accountName} (${result.accountId})` : result.accountId;
    // A key acts with a member's rights but is no one's membership: it is named with its scope, never with a role.
    if (result.apiKey) {
      const key = result.apiKey;
      const from = source === "env" ? " (the key comes from QDZ_API_KEY)" : "";
      return `Acting as the API key ${key.id} '${key.name}' (scope: ${key.scope}) of account ${account} on ${result.url}${from}.`;
    }
    const fields: [string, string][] = [
      ["account", account],
      ["role", result.role],
    ];
    const others = result.accounts.filter((candidate) => candidate.id !== result.accountId);
    if (others.length) fields.push(["other accounts", others.map((other) => `${other.name} (${other.id})`).join(", ")]);
    return `Signed in to ${result.url} as ${result.email}.\n${renderFields(fields)}`;
  });
}

async function passwordFrom(options: PasswordOptions, isNew: boolean): Promise<string> {
  if (options.password !== undefined && options.passwordStdin) throw new UsageError("Use either --password or --password-stdin, not both.");
  if (options.passwordStdin) return readSecretFromStdin("password");
  if (options.password !== undefined) return options.password;
  const flag = "--password or --password-stdin";
  const password = await ask({ message: isNew ? "Choose a password (at least 10 characters)" : "Password", flag, secret: true });
  if (isNew && (await ask({ message: "Repeat the password", flag, secret: true })) !== password) {
    throw new CliError("The passwords do not match.", "INVALID_INPUT");
  }
  return password;
}

/** Stores the new credential; a session it replaces is ended, so signing in again never leaves live sessions behind. */
async function storeCredential(cli: CliContext, credential: StoredCredential) {
  const previous = cli.store.get(cli.url);
  cli.store.set(cli.url, credential);
  if (previous?.kind === "session" && previous.token !== credential.token) {
    await cli
      .withToken(previous.token)
      .auth.logout.mutate()
      .catch(() => {});
  }
  if (cli.keyFromEnv) cli.out.note("warning: QDZ_API_KEY is set and takes precedence over the stored credential.");
}

function sessionToken(token: string | null): string {
  if (!token) throw new CliError("The server did not hand over a session token.", "BAD_RESPONSE");
  return token;
}

const now = () => new Date().toISOString();

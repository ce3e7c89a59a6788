import { type Command, Option } from "commander";
import { action } from "../action";
import type { Outputs } from "../client";
import type { CliContext } from "../context";
import { formatTime, renderTable } from "../output";

type ApiKey = Outputs["apiKeys"]["list"][number];
type Scope = ApiKey["scope"];

/** One line per scope for the help; a Record, so a new scope does not compile until it is explained here. */
const SCOPES: Record<Scope, string> = {
  inference: "only /v1 (chat, completions, embeddings, models)",
  read: "also reads the account (instances, billing, keys, firewalls)",
  full: "everything a member may do, except managing keys and members",
};

export function keysCommands(program: Command): void {
  const keys = program.command("keys").description("API keys of your account, for /v1, billing and the CLI");

  keys
    .command("create")
    .description("create an API key; its secret is shown this once only")
    .argument("<name>", "what the key is for, such as 'ci' or 'laptop'")
    .addOption(
      new Option(
        "--scope <scope>",
        `what the key may do, by default inference. ${Object.entries(SCOPES)
          .map(([scope, what]) => `${scope} = ${what}`)
          .join("; ")}`,
      ).choices(Object.keys(SCOPES)),
    )
    .action(action(create));
  keys.command("list").description("list the account's API keys (never their secrets)").action(action(list));
  keys
    .command("revoke")
    .description("revoke an API key: requests using it are refused from now on")
    .argument("<id>", "the key's id (key_…), from `qdz keys list`")
    .action(action(revoke));
}

async function create(cli: CliContext, name: string, options: { scope?: Scope }) {
  // Left out when not given: the server's default is the one default.
  const created = await cli.signedIn().apiKeys.create.mutate({ name, scope: options.scope });
  // The secret alone on stdout, so `KEY=$(qdz keys create ci)` captures exactly the key.
  cli.out.note(`Created API key '${created.key.name}' (${created.key.id}) with scope '${created.key.scope}'. Copy the secret now: it is not shown again.`);
  cli.out.result(created, (result) => result.secret);
}

async function list(cli: CliContext) {
  const keys = await cli.signedIn().apiKeys.list.query();
  cli.out.result(keys, (rows) => {
    if (rows.length === 0) return "No API keys yet. Create one with `qdz keys create <name>`.";
    return renderTable(
      ["id", "name", "prefix", "scope", "created", "last used", "requests", "status"],
      rows.map((key) => [
        key.id,
        key.name,
        `${key.prefix}…`,
        key.scope,
        formatTime(key.createdAt),
        formatTime(key.lastUsedAt, "never"),
        String(key.requestCount),
        status(key),
      ]),
    );
  });
}

async function revoke(cli: CliContext, id: string) {
  const key = await cli.signedIn().apiKeys.revoke.mutate({ id });
  cli.out.result(key, (revoked) => `Revoked API key '${revoked.name}' (${revoked.id}). Requests using it are refused from now on.`);
}

const status = (key: ApiKey) => (key.revokedAt ? `revoked ${formatTime(key.revokedAt)}` : "active");

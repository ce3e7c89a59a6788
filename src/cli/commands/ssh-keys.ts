import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { action } from "../action";
import type { CliContext } from "../context";
import { CliError } from "../errors";
import { readStdin } from "../input";
import { formatTime, renderTable } from "../output";

export function sshKeysCommands(program: Command): void {
  const sshKeys = program.command("ssh-keys").description("SSH public keys, written to every new pod's authorized_keys");

  sshKeys
    .command("add")
    .description("add an SSH public key")
    .argument("<file>", "a public key file (such as ~/.ssh/id_ed25519.pub), or - for stdin")
    .option("--name <name>", "a name for the key (default: the key's comment)")
    .action(action(add));
  sshKeys.command("list").description("list the account's SSH keys").action(action(list));
  sshKeys
    .command("remove")
    .description("remove an SSH key (pods that already have it keep it)")
    .argument("<id>", "the key's id, from `qdz ssh-keys list`")
    .action(action(remove));
}

async function add(cli: CliContext, file: string, options: { name?: string }) {
  const publicKey = await readPublicKey(file);
  const key = await cli.signedIn().sshKeys.add.mutate({ publicKey, name: options.name });
  cli.out.result(key, (added) => `Added SSH key '${added.name}' (${added.fingerprint}) as ${added.id}.`);
}

async function list(cli: CliContext) {
  const keys = await cli.signedIn().sshKeys.list.query();
  cli.out.result(keys, (rows) => {
    if (rows.length === 0) return "No SSH keys yet. Add one with `qdz ssh-keys add ~/.ssh/id_ed25519.pub`.";
    return renderTable(
      ["id", "name", "algorithm", "fingerprint", "added"],
      rows.map((key) => [key.id, key.name, key.algorithm, key.fingerprint, formatTime(key.createdAt)]),
    );
  });
}

async function remove(cli: CliContext, id: string) {
  await cli.signedIn().sshKeys.remove.mutate({ id });
  cli.out.result({ ok: true, id }, () => `Removed SSH key ${id}.`);
}

async function readPublicKey(file: string): Promise<string> {
  let text: string;
  try {
    text = file === "-" ? await readStdin() : readFileSync(file, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    throw new CliError(`Cannot read ${file}: ${reason}.`, "FILE_UNREADABLE");
  }
  // Checked here, not only by the server: a private key must never leave this machine.
  if (/PRIVATE KEY/.test(text)) {
    const hint = file === "-" ? "" : ` (likely ${file}.pub)`;
    throw new CliError(`This is a private key, and it stays on this machine. Pass the public key instead${hint}.`, "PRIVATE_KEY");
  }
  return text;
}

import { readFileSync } from "node:fs";
import type { CliContext } from "../../context";
import { CliError, toCliError } from "../../errors";
import { readStdin } from "../../input";
import { renderFirewall } from "./render";
import { nameRuleFields, parseRulesFile, type RegexAction, type RuleFlagUse, rulesFromFlags, withRuleIds } from "./rules";

export interface CreateFlags {
  rules?: string;
  description?: string;
  storePromptText?: boolean;
  regexAction?: RegexAction;
}

/** The file's rules first, then the flags' rules in the order given; ids filled in where missing. */
export async function create(cli: CliContext, name: string, flags: CreateFlags, uses: RuleFlagUse[]) {
  // Flags are checked before the file is read: a mistyped flag must not swallow stdin.
  const fromFlags = rulesFromFlags(uses, flags.regexAction);
  const fromFile = flags.rules === undefined ? [] : parseRulesFile(await readRules(flags.rules), flags.rules === "-" ? "stdin" : flags.rules);
  const rules = withRuleIds([...fromFile, ...fromFlags]);
  const client = cli.signedIn();
  const created = await client.firewalls.create
    .mutate({ name, description: flags.description, rules, storePromptText: Boolean(flags.storePromptText) })
    .catch((error) => {
      const refusal = toCliError(error, cli.url);
      throw new CliError(nameRuleFields(refusal.message, rules), refusal.code, refusal.exitCode);
    });
  const firewall = { ...created, instanceIds: [] as string[] };
  cli.out.result(firewall, (result) => `Created firewall '${result.name}' (${result.id}).\n\n${renderFirewall(result)}`);
  if (rules.length === 0)
    cli.out.note("It has no rules yet, so every prompt goes through. Add rules with --rules <file.json> or flags such as --block-injection.");
  cli.out.note(
    `Try it with \`qdz firewalls test ${created.id} '<prompt>'\`; put it in front of an instance with \`qdz firewalls attach ${created.id} <instance-id>\`.`,
  );
}

async function readRules(file: string): Promise<string> {
  try {
    return file === "-" ? await readStdin() : readFileSync(file, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    throw new CliError(`Cannot read ${file}: ${reason}.`, "FILE_UNREADABLE");
  }
}

import { type Command, Option } from "commander";
import { action } from "../action";
import { attach, detach } from "./firewalls/attachment";
import { check } from "./firewalls/check";
import { type CreateFlags, create } from "./firewalls/create";
import { remove } from "./firewalls/remove";
import { RULE_FLAGS, type RuleFlagUse } from "./firewalls/rules";
import { events, list, show } from "./firewalls/view";
import { wholeNumber } from "./instances/launch-options";

export function firewallsCommands(program: Command): void {
  const firewalls = program
    .command("firewalls")
    .alias("firewall")
    .description("pre-prompt firewalls: ordered rules that block, redact or flag prompts before they reach an instance");

  firewalls.command("list").description("list the account's firewalls and the instances they are attached to").action(action(list));
  firewalls
    .command("show")
    .description("show a firewall and its rules, in the order they run")
    .argument("<id>", "the firewall's id, from `qdz firewalls list`")
    .action(action(show));

  const createCommand = firewalls
    .command("create")
    .description("create a firewall from a rules file and/or rule flags (the file's rules first, then the flags', in the order given)")
    .argument("<name>", "a name, such as 'public chat'")
    .option("--rules <file>", "a JSON array of rules ({id?, kind, action, options}), or - for stdin")
    .option("--block-injection", "block prompt-injection phrasing")
    .option("--flag-secrets", "flag API keys, tokens and private keys")
    .option("--block-secrets", "block API keys, tokens and private keys")
    .option("--redact-secrets", "redact API keys, tokens and private keys")
    .option("--redact-pii [categories]", "redact personal data: emails, phones, ibans, cards (a comma list; default: all)")
    .option("--deny <term>", "block prompts containing this term (repeatable: one deny list)")
    .option("--regex <pattern>", "a custom pattern in RE2 syntax (repeatable: one rule each)")
    .addOption(new Option("--regex-action <action>", "what --regex rules do (default: block)").choices(["block", "redact", "flag"]))
    .option("--max-chars <n>", "block prompts longer than this many characters", wholeNumber(1, 100_000_000))
    .option("--description <text>", "a description")
    .option("--store-prompt-text", "keep an excerpt of the prompt in block and flag events (default: no prompt text is kept)")
    .addHelpText(
      "after",
      [
        "\nExamples:",
        "  $ qdz firewalls create 'public chat' --block-injection --redact-secrets --redact-pii",
        "  $ qdz firewalls create support --redact-pii emails,cards --deny acme --deny globex --max-chars 4000",
        "  $ qdz firewalls create strict --regex '\\bproject-\\d+\\b' --regex-action redact --flag-secrets",
      ].join("\n"),
    );
  // Commander keeps options by name, not by position; the rules' order is the flags' order, so it is recorded as they are parsed.
  // It passes null for an optional value left out (`--redact-pii` alone), undefined for a flag without one.
  const uses: RuleFlagUse[] = [];
  for (const flag of RULE_FLAGS) createCommand.on(`option:${flag}`, (value?: string | null) => uses.push({ flag, value: value ?? undefined }));
  createCommand.action(action((cli, name: string, flags: CreateFlags) => create(cli, name, flags, uses)));

  firewalls
    .command("attach")
    .description("put a firewall in front of an instance (replacing the one it had): every prompt to it is screened")
    .argument("<firewall-id>", "the firewall's id")
    .argument("<instance-id>", "the instance's id (inst_…)")
    .action(action(attach));
  firewalls
    .command("detach")
    .description("take the firewall away from an instance: its prompts go through unscreened")
    .argument("<instance-id>", "the instance's id (inst_…)")
    .action(action(detach));
  firewalls
    .command("test")
    .description("show what a firewall does to a prompt (allowed, blocked, redacted, flagged); records nothing, exits 0 whatever the outcome")
    .argument("<firewall-id>", "the firewall's id")
    .argument("<text>", "the prompt, or - for stdin")
    .action(action(check));
  firewalls
    .command("events")
    .description("list a firewall's recorded blocks and flags, newest first")
    .argument("<firewall-id>", "the firewall's id")
    .option("--limit <n>", "events per page, 1 to 200 (default: 50)", wholeNumber(1, 200))
    .option("--cursor <cursor>", "the next page, as the previous page's hint gives it", wholeNumber(1, Number.MAX_SAFE_INTEGER))
    .action(action(events));
  firewalls
    .command("delete")
    .description("delete a firewall: instances it was attached to forward prompts unscreened; its events are kept")
    .argument("<id>", "the firewall's id")
    .option("-y, --yes", "do not ask for confirmation (needed when not at a terminal)")
    .action(action(remove));
}

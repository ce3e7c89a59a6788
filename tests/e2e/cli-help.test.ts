/**
 * No `qdz` command line ends in an internal error. Every command's `--help`
 * prints its usage; every command runs with each of its flags (against a
 * server that is not there, so only the CLI's own parsing and checks run);
 * and every example the help texts show runs against a real api.
 */
import { afterAll, describe, expect, test } from "bun:test";
import type { Command, Option } from "commander";
import { buildProgram } from "../../src/cli/program";
import { randomBase62 } from "../../src/ids";
import { freePort } from "../support/cluster";
import { startCompute } from "../support/compute";
import { newApiKey } from "../support/factories";
import { type CliResult, type CliRunner, cliRunner } from "../support/platform";

const TIMEOUT = 120_000;
const compute = await startCompute();

/** Every command under `qdz`, as the words that name it (`["firewalls", "create"]`); the root is `[]`. */
function commandPaths(): { path: string[]; command: Command }[] {
  const found: { path: string[]; command: Command }[] = [];
  const walk = (command: Command, path: string[]) => {
    found.push({ path, command });
    for (const sub of command.commands) walk(sub, [...path, sub.name()]);
  };
  walk(buildProgram(false), []);
  return found;
}
const COMMANDS = commandPaths();

/**
 * Signs of a failure the CLI did not mean to report: a JavaScript engine's
 * wording, a stack frame, or the catch-all code `toCliError` gives to
 * anything that is not one of ours.
 */
const INTERNAL = [
  /is not an object/,
  /is not a function/,
  /Cannot read propert/,
  /\bundefined\b/,
  /\bnull\b.*\(evaluating/,
  /^\s+at .+:\d+:\d+\)?$/m,
  /"code":"INTERNAL"/,
];

function internalError(result: CliResult): string | null {
  const output = `${result.stdout}\n${result.stderr}`;
  const sign = INTERNAL.find((pattern) => pattern.test(output));
  if (sign) return `output matches ${sign}: ${result.stderr.trim() || result.stdout.trim()}`;
  if (![0, 1, 2].includes(result.code)) return `exit code ${result.code}: ${result.stderr.trim()}`;
  return null;
}

/** Runs each command line, two at a time (the machines running this have two CPUs), in the order given. */
async function runAll(cli: CliRunner, lines: string[][]): Promise<{ args: string[]; result: CliResult }[]> {
  const results: { args: string[]; result: CliResult }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < lines.length) {
      const index = next++;
      const args = lines[index]!;
      results[index] = { args, result: await cli(args) };
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

/** A value an argument or option accepts, guessed from its name: what a person would type. */
function sampleValue(name: string, choices?: readonly string[]): string {
  if (choices?.length) return choices[0]!;
  if (/^(n|limit|seconds|count|tokens|gib|eur|eur\/h|amount|cursor)$/i.test(name)) return "5";
  if (/^expr$/.test(name)) return "0 19 * * 1-5";
  if (/^(zone|iana)$/.test(name)) return "Europe/Paris";
  if (/^file$/.test(name)) return "/nonexistent/qdz-test-file";
  if (/^text$/.test(name)) return "hello";
  if (/^(url)$/.test(name)) return "http://127.0.0.1:1";
  return "x1";
}

const valueName = (option: Option) => /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1] ?? "";

/** The command with its arguments filled in, once bare and once per option (with a value where it takes one). */
function invocations(path: string[], command: Command): string[][] {
  const positionals = command.registeredArguments
    .filter((argument) => argument.required || argument.variadic)
    .map((argument) => sampleValue(argument.name(), argument.argChoices));
  const base = [...path, ...positionals];
  const lines = [base];
  for (const option of command.options as Option[]) {
    if (option.long === "--version" || option.long === "--help") continue;
    const flag = option.long ?? option.short!;
    // An optional value is tried left out, the way the help offers it (`--redact-pii` alone).
    lines.push(option.required ? [...base, flag, sampleValue(valueName(option), option.argChoices)] : [...base, flag]);
  }
  return lines;
}

/** `a 'b c' "d"` as a shell would split it, for the examples the help texts show. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const match of line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) words.push(match[1] ?? match[2] ?? match[3]!);
  return words;
}

/** `qdz …` in backticks, or after `$ ` on an example line. */
function examplesIn(help: string): string[] {
  const inline = [...help.matchAll(/`(qdz [^`]+)`/g)].map((match) => match[1]!.replace(/\s+/g, " "));
  const lines = [...help.matchAll(/^\s*\$ (qdz .+)$/gm)].map((match) => match[1]!.trim());
  return [...inline, ...lines];
}

describe("help", () => {
  const cli = cliRunner(`http://127.0.0.1:1`);
  afterAll(() => cli.cleanup());

  test(
    "every command's --help exits 0 with its usage on stdout",
    async () => {
      const lines = COMMANDS.map(({ path }) => [...path, "--help"]);
      const failures: string[] = [];
      for (const { args, result } of await runAll(cli, lines)) {
        const path = args.slice(0, -1);
        const usage = new RegExp(`^Usage: qdz${path.map((word, i) => ` ${word}${i === path.length - 1 ? "(\\|\\S+)?" : ""}`).join("")} `);
        if (result.code !== 0 || !usage.test(result.stdout) || result.stderr !== "") {
          failures.push(
            `qdz ${args.join(" ")}: exit ${result.code}, stdout ${JSON.stringify(result.stdout.slice(0, 80))}, stderr ${JSON.stringify(result.stderr)}`,
          );
        }
      }
      expect(failures).toEqual([]);
      expect(COMMANDS.map(({ path }) => path.join(" "))).toContain("firewalls create");
    },
    TIMEOUT,
  );

  test(
    "`qdz help <command>` says the same as `qdz <command> --help`",
    async () => {
      const [viaHelp, viaFlag] = await Promise.all([cli(["help", "firewalls"]), cli(["firewalls", "--help"])]);
      expect(viaHelp).toEqual({ ...viaFlag, code: 0 });
    },
    TIMEOUT,
  );
});

describe("every command with each of its flags, against a server that is not there", () => {
  test(
    "each ends in a result or a reported error (usage, not signed in, unreachable), never an internal one",
    async () => {
      const url = `http://127.0.0.1:${await freePort()}`;
      const cli = cliRunner(url);
      const key = `qdz_${randomBase62(43)}`;
      const lines = COMMANDS.flatMap(({ path, command }) => invocations(path, command));
      const failures: string[] = [];
      const withKey: typeof cli = Object.assign((args: string[]) => cli([...args, "--json"], { env: { QDZ_API_KEY: key } }), cli);
      for (const { args, result } of await runAll(withKey, lines)) {
        const problem = internalError(result);
        if (problem) failures.push(`qdz ${args.join(" ")}: ${problem}`);
      }
      cli.cleanup();
      expect(failures).toEqual([]);
      expect(lines).toContainEqual(["firewalls", "create", "x1", "--redact-pii"]);
    },
    TIMEOUT,
  );
});

describe("the examples the help texts show, against the api", () => {
  test(
    "each runs without an internal error; those without placeholders succeed",
    async () => {
      const { user } = await compute.fundedUser();
      const { secret } = await newApiKey(compute.db, user, { scope: "full" });
      const cli = cliRunner(compute.url);
      const helps = await runAll(
        cli,
        COMMANDS.map(({ path }) => [...path, "--help"]),
      );
      const examples = [...new Set(helps.flatMap(({ result }) => examplesIn(result.stdout)))];
      // The firewall examples and the hints (`qdz keys list`, `qdz notifications`, …) at least.
      expect(examples).toContain("qdz firewalls create 'public chat' --block-injection --redact-secrets --redact-pii");
      expect(examples.length).toBeGreaterThanOrEqual(6);

      const failures: string[] = [];
      const lines = examples.map((example) =>
        shellWords(example)
          .slice(1)
          .map((word) => word.replace(/^<([^>]+)>$/, (_, name) => sampleValue(name))),
      );
      const withKey: typeof cli = Object.assign((args: string[]) => cli([...args, "--json"], { env: { QDZ_API_KEY: secret } }), cli);
      for (const [index, { args, result }] of (await runAll(withKey, lines)).entries()) {
        const problem = internalError(result);
        if (problem) failures.push(`qdz ${args.join(" ")}: ${problem}`);
        else if (!/<[^>]+>/.test(examples[index]!) && result.code !== 0) failures.push(`qdz ${args.join(" ")}: exit ${result.code}: ${result.stderr.trim()}`);
      }
      cli.cleanup();
      expect(failures).toEqual([]);
    },
    TIMEOUT,
  );

  test(
    "`firewalls create <name> --redact-pii` alone redacts every PII category, as its help says",
    async () => {
      const { user } = await compute.fundedUser();
      const { secret } = await newApiKey(compute.db, user, { scope: "full" });
      const cli = cliRunner(compute.url);
      const created = await cli(["firewalls", "create", "t1", "--redact-pii", "--json"], { env: { QDZ_API_KEY: secret } });
      cli.cleanup();
      expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: "" });
      expect(JSON.parse(created.stdout).rules).toEqual([
        expect.objectContaining({ kind: "pii", action: "redact", options: { categories: ["emails", "phones", "ibans", "cards"] } }),
      ]);
    },
    TIMEOUT,
  );
});

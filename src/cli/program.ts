import { Command, CommanderError } from "commander";
import packageJson from "../../package.json";
import { auditCommands } from "./commands/audit";
import { authCommands } from "./commands/auth";
import { billingCommands } from "./commands/billing";
import { budgetsCommands } from "./commands/budgets";
import { firewallsCommands } from "./commands/firewalls";
import { instancesCommands } from "./commands/instances";
import { keysCommands } from "./commands/keys";
import { notificationsCommands } from "./commands/notifications";
import { runtimesCommands } from "./commands/runtimes";
import { schedulesCommands } from "./commands/schedules";
import { sshKeysCommands } from "./commands/ssh-keys";
import { usageCommands } from "./commands/usage";
import { EXIT_OK, EXIT_USAGE, UsageError } from "./errors";
import { formatError } from "./output";

export function buildProgram(json: boolean): Command {
  const program = new Command("qdz")
    .description("Command-line client of QDivZero Compute.")
    .version(packageJson.version)
    .option("--json", 'print machine-readable JSON only (errors as {"error":{…}} on stderr)')
    .option("--url <url>", "the server (default: $QDZ_URL, else http://localhost:3000)")
    .addHelpText(
      "after",
      "\nEnvironment:\n  QDZ_URL         the server\n  QDZ_API_KEY     an API key, used instead of the stored credential\n  QDZ_CONFIG_DIR  where credentials.json is kept (default: $XDG_CONFIG_HOME/qdz or ~/.config/qdz)",
    )
    .showSuggestionAfterError()
    // Subcommands inherit both: commander's usage errors are reported like ours and never exit the process itself.
    .exitOverride()
    .configureOutput({
      outputError: (message, write) => write(formatError(new UsageError(message.replace(/^error: /, "").trim()), json)),
    });
  authCommands(program);
  keysCommands(program);
  sshKeysCommands(program);
  billingCommands(program);
  usageCommands(program);
  budgetsCommands(program);
  notificationsCommands(program);
  instancesCommands(program);
  schedulesCommands(program);
  runtimesCommands(program);
  firewallsCommands(program);
  auditCommands(program);
  return program;
}

/** Runs the CLI; resolves to the exit code. */
export async function run(argv: string[]): Promise<number> {
  const program = buildProgram(argv.includes("--json"));
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // --help and --version end parsing with exit code 0; every other commander error is a usage error.
    return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  return typeof process.exitCode === "number" ? process.exitCode : EXIT_OK;
}

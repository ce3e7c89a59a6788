import type { Command } from "commander";
import { DEFAULT_URL } from "./client";
import { CliContext, type GlobalOptions } from "./context";
import { toCliError } from "./errors";
import { Output } from "./output";

/**
 * Wraps a command's body for commander: builds the context from the global
 * options, and reports whatever it throws as one line (or one JSON object)
 * with the right exit code. `args` are commander's: positionals, then options.
 */
export function action<Args extends unknown[]>(body: (cli: CliContext, ...args: Args) => Promise<void>) {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    const options = command.optsWithGlobals<GlobalOptions>();
    let cli: CliContext | undefined;
    try {
      cli = new CliContext(options);
      await body(cli, ...(args.slice(0, -1) as Args));
    } catch (error) {
      const url = cli?.url ?? options.url ?? process.env.QDZ_URL ?? DEFAULT_URL;
      const mapped = toCliError(error, url);
      new Output(Boolean(options.json)).error(cli ? cli.explain(mapped) : mapped);
      process.exitCode = mapped.exitCode;
    }
  };
}

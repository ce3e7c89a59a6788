import { isCancel, password, text } from "@clack/prompts";
import { CliError, UsageError } from "./errors";

/** Prompts only when a person is at a terminal; scripts get a usage error naming the missing flag instead. */
export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

export async function readStdin(): Promise<string> {
  return Bun.stdin.text();
}

/** A secret piped on stdin, as `docker login --password-stdin` takes it: one trailing newline dropped. */
export async function readSecretFromStdin(what: string): Promise<string> {
  const secret = (await readStdin()).replace(/\r?\n$/, "");
  if (!secret) throw new UsageError(`No ${what} on stdin.`);
  return secret;
}

interface Ask {
  message: string;
  /** The flag that would have given the value, named when no prompt is possible. */
  flag: string;
  secret?: boolean;
  validate?: (value: string) => string | undefined;
}

/** Asks at the terminal (on stderr, so stdout stays the command's result). */
export async function ask({ message, flag, secret, validate }: Ask): Promise<string> {
  if (!canPrompt()) throw new UsageError(`Missing ${flag} (prompts need a terminal).`);
  const options = { message, output: process.stderr, validate: (value: string | undefined) => validate?.(value ?? "") };
  const answer = secret ? await password(options) : await text(options);
  if (isCancel(answer)) throw new CliError("Cancelled.", "CANCELLED");
  return answer;
}

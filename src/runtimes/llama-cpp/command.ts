import { spawn } from "node:child_process";
import { appendFileSync } from "node:fs";

export class LlamaCppInstallError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LlamaCppInstallError";
  }
}

export interface CommandOptions {
  cwd?: string;
  /** Every output line (stdout and stderr) is appended here, so a failed build can be read whole. */
  logFile?: string;
  onLine?: (line: string) => void;
}

const TAIL_LINES = 30;

/**
 * Runs a command without blocking the event loop (a build takes minutes, and
 * the test runner or the API must stay responsive meanwhile). Resolves with
 * stdout; rejects with the last lines of output when the exit code is not 0.
 */
export function runCommand(command: string, args: string[], options: CommandOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
    const tail: string[] = [];
    let stdout = "";

    const lineReader = (onChunkText?: (text: string) => void) => {
      let pending = "";
      return (chunk: Buffer) => {
        const text = chunk.toString("utf8");
        onChunkText?.(text);
        if (options.logFile) appendFileSync(options.logFile, text);
        pending += text;
        const lines = pending.split(/\r?\n/);
        pending = lines.pop() ?? "";
        for (const line of lines) {
          tail.push(line);
          if (tail.length > TAIL_LINES) tail.shift();
          options.onLine?.(line);
        }
      };
    };
    child.stdout.on(
      "data",
      lineReader((text) => (stdout += text)),
    );
    child.stderr.on("data", lineReader());

    child.once("error", (error) => reject(new LlamaCppInstallError(`could not run ${command}: ${error.message}`, { cause: error })));
    child.once("close", (code, signal) => {
      if (code === 0) return resolve(stdout);
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      reject(new LlamaCppInstallError(`${command} ${args.join(" ")} ${how}:\n${tail.join("\n")}`));
    });
  });
}

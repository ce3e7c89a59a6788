/** A child process whose printed lines a test can wait for. */
export interface Child {
  proc: ReturnType<typeof Bun.spawn>;
  /** Resolves with the first matching line printed after the last line a call matched (before or after this call), or throws after `timeoutMs`. */
  line(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Everything it printed on stdout so far. */
  output(): string;
}

export function spawnChild(argv: string[], env: Record<string, string | undefined> = process.env): Child {
  const proc = Bun.spawn(argv, { env, stdout: "pipe", stderr: "inherit" });
  let output = "";
  let seen = 0;
  const waiting = new Set<() => void>();
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout) {
      output += decoder.decode(chunk, { stream: true });
      for (const wake of waiting) wake();
    }
  })();
  return {
    proc,
    output: () => output,
    line(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const lines = output.split("\n");
          // Only complete lines, and each line is matched by one waiter at most once in order.
          for (let i = seen; i < lines.length - 1; i++) {
            const match = pattern.exec(lines[i]!);
            if (match) {
              seen = i + 1;
              finish();
              resolve(match);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; printed:\n${output.slice(-2000)}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiting.delete(check);
        };
        waiting.add(check);
        check();
      });
    },
  };
}

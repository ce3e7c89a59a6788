#!/usr/bin/env node
/**
 * `qdz` for machines with Node and npm but no Bun on the PATH: it runs the CLI
 * (src/cli/bin.ts) under the Bun that `npm install` put in this project's
 * node_modules. Plain JavaScript without dependencies, because it runs under
 * Node (20.17+) before anything else of the project can.
 */
import { spawn } from "node:child_process";
import { readFileSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { constants } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// `npm link` and npm's bin shims run this file through a symlink: the project is where the real file is
// (Node resolves a symlinked main module itself, except with --preserve-symlinks-main).
const launcher = realpathSync(fileURLToPath(import.meta.url));
const project = resolve(dirname(launcher), "../..");

/** The `bun` package's binary, resolved from this file as Node resolves packages (the project's node_modules); else `bun` on the PATH. */
function projectBun() {
  try {
    const manifest = createRequire(launcher).resolve("bun/package.json");
    const { bin } = JSON.parse(readFileSync(manifest, "utf8"));
    return join(dirname(manifest), typeof bin === "string" ? bin : bin.bun);
  } catch {
    return "bun";
  }
}

const bun = projectBun();

// Signals sent to this process alone (kill, a supervisor, a test runner) reach the CLI too; a terminal's Ctrl-C
// reaches both already. Listened for before the CLI is spawned: a signal arriving in between would otherwise end
// this process by default and leave the CLI running. (Node handles signals in its event loop, so `child` is set
// by the time `forward` runs.)
const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"];
const forward = (signal) => child.kill(signal);
for (const signal of FORWARDED) process.on(signal, forward);

// No cwd option: the CLI reads files relative to where the user is.
const child = spawn(bun, [join(project, "src/cli/bin.ts"), ...process.argv.slice(2)], { stdio: "inherit" });

child.on("error", (error) => {
  if (error.code === "ENOENT") {
    process.stderr.write(`qdz runs on Bun, and there is none in ${join(project, "node_modules")} or on the PATH.\nRun \`npm install\` in ${project}.\n`);
    process.exit(127);
  }
  process.stderr.write(`qdz cannot start Bun (${bun}): ${error.message}\n`);
  process.exit(126);
});

child.on("exit", (code, signal) => {
  for (const name of FORWARDED) process.off(name, forward);
  if (signal === null) process.exit(code ?? 1);
  // Ended by a signal: end by the same one, so the caller sees what it would have seen running the CLI itself;
  // the shell's 128 + n stands in if this signal does not end a Node process.
  process.exitCode = 128 + (constants.signals[signal] ?? 0);
  process.kill(process.pid, signal);
});

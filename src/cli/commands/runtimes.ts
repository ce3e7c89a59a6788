import type { Command } from "commander";
import { action } from "../action";
import type { Outputs } from "../client";
import type { CliContext } from "../context";
import { CliError } from "../errors";
import { renderTable } from "../output";

type RuntimeRow = Outputs["runtimes"]["list"][number];

export function runtimesCommands(program: Command): void {
  const runtimes = program.command("runtimes").description("serving runtimes, and building them on the platform's machine");
  runtimes.command("list").description("each runtime and what serves its pods here (the real binary, or the reference runtime)").action(action(list));
  runtimes
    .command("install")
    .description("build a runtime on the platform's machine (llama.cpp: a few minutes, once), showing progress")
    .argument("<runtime>", "the runtime to build, e.g. llama.cpp")
    .option("--timeout <seconds>", "give up waiting after this long", "1800")
    .action(action(install));
}

async function list(cli: CliContext) {
  const rows = await cli.signedIn().runtimes.list.query();
  cli.out.result(rows, (all) =>
    renderTable(
      ["id", "name", "served by", "install"],
      all.map((r) => [r.id, r.name, r.binaryPath ? `${r.name} (${r.binaryPath})` : r.servedBy, installState(r)]),
    ),
  );
}

async function install(cli: CliContext, runtimeId: string, options: { timeout: string }) {
  const api = cli.signedIn();
  const timeoutMs = Number(options.timeout) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new CliError("--timeout must be a positive number of seconds.", "USAGE", 2);
  await api.runtimes.install.mutate({ runtimeId });
  cli.out.note(`Building ${runtimeId} on the platform's machine…`);
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const row = (await api.runtimes.list.query()).find((r) => r.id === runtimeId);
    const progress = row?.install;
    if (progress?.state === "installed") {
      cli.out.result(
        { runtime: runtimeId, state: "installed", version: progress.version, binary_path: progress.binaryPath },
        () => `${runtimeId} installed: ${progress.binaryPath} (${progress.version})`,
      );
      return;
    }
    if (progress?.state === "failed") throw new CliError(`The ${runtimeId} build failed: ${progress.error}`, "INSTALL_FAILED", 1);
    const line = progress
      ? `${progress.phase ?? ""}${progress.progress !== null ? ` ${Math.round(progress.progress * 100)}%` : ""}: ${progress.message ?? ""}`
      : "";
    if (line && line !== last) cli.out.note(line);
    last = line;
    if (Date.now() > deadline)
      throw new CliError(`Still building after ${options.timeout} s; the build goes on. Check with \`qdz runtimes list\`.`, "TIMEOUT", 1);
    await Bun.sleep(1000);
  }
}

function installState(row: RuntimeRow): string {
  if (!row.installable) return "—";
  if (!row.install) return `not built (qdz runtimes install ${row.id})`;
  if (row.install.state === "installing") return `building: ${row.install.message ?? row.install.phase}`;
  return row.install.state === "installed" ? `built (${row.install.version})` : `failed: ${row.install.error}`;
}

import type { Client } from "../../client";
import type { CliContext } from "../../context";
import { CliError, toCliError } from "../../errors";
import { type Goal, progressKey, progressLine, settle } from "./progress";
import { type Detail, failureMessage } from "./render";

const POLL_INTERVAL_MS = 1_000;
export const DEFAULT_WAIT_SECONDS = 600;
export const MAX_WAIT_SECONDS = 86_400;

/** Error codes of a wait that ended in the wrong state, by that state. */
const FAILURE_CODES: Partial<Record<Detail["state"], string>> = { failed: "INSTANCE_FAILED", non_bootstrap: "NON_BOOTSTRAP" };

/**
 * Polls `instances.get` every second until the instance reaches `goal`
 * (resolves to its detail) or a state it cannot reach `goal` from (throws
 * with the failure reason and remediation), showing progress on stderr.
 */
export async function waitForInstance(cli: CliContext, client: Client, id: string, goal: Goal, timeoutSeconds: number): Promise<Detail> {
  const started = Date.now();
  const deadline = started + timeoutSeconds * 1_000;
  const display = progressDisplay(cli.out.json);
  try {
    for (;;) {
      const detail = await current(cli, client, id);
      if (detail) {
        const outcome = settle(detail.state, goal);
        if (outcome === "reached") return detail;
        if (outcome === "failed") throw new CliError(failureMessage(detail), FAILURE_CODES[detail.state] ?? "INSTANCE_STOPPED");
        display.show(detail, (Date.now() - started) / 1000);
      }
      if (Date.now() >= deadline) {
        const state = detail ? `still ${detail.state}` : "not reachable";
        const what = goal === "running" ? "starting" : "stopping";
        throw new CliError(`Instance ${id} is ${state} after ${timeoutSeconds} s. It goes on ${what}: follow it with \`qdz instances show ${id}\`.`, "TIMEOUT");
      }
      await Bun.sleep(Math.min(POLL_INTERVAL_MS, Math.max(0, deadline - Date.now())));
    }
  } finally {
    display.clear();
  }
}

/** A restarting api must not end the wait: an unreachable server counts as "no news". */
async function current(cli: CliContext, client: Client, id: string): Promise<Detail | null> {
  try {
    return await client.instances.get.query({ id });
  } catch (error) {
    if (toCliError(error, cli.url).code === "UNREACHABLE") return null;
    throw error;
  }
}

/**
 * On a terminal, one line redrawn in place (also under --json: it is erased
 * at the end and stdout stays one document). Elsewhere, a line per change
 * worth noting, for people only.
 */
function progressDisplay(json: boolean) {
  const tty = Boolean(process.stderr.isTTY);
  let lastKey = "";
  let drawn = false;
  return {
    show(detail: Detail, waitedSeconds: number) {
      const line = progressLine(detail.state, detail.progress, waitedSeconds);
      if (tty) {
        const width = process.stderr.columns || 100;
        process.stderr.write(`\r\x1b[K${line.length >= width ? `${line.slice(0, width - 2)}…` : line}`);
        drawn = true;
        return;
      }
      const key = progressKey(detail.state, detail.progress);
      if (json || key === lastKey) return;
      lastKey = key;
      process.stderr.write(`${line}\n`);
    },
    clear() {
      if (drawn) process.stderr.write("\r\x1b[K");
    },
  };
}

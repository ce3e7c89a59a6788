/**
 * What the CLI tests check of every run, as a script would: `--json` output
 * on stdout when it succeeds, one `{"error":{message,code}}` document on
 * stderr when it fails.
 */
import { expect } from "bun:test";
import type { CliResult } from "./platform";

/** Bun 1.4.5's toMatchObject overwrites the fields an asymmetric matcher matched: match a copy. */
export const expectCopy = (value: unknown) => expect(structuredClone(value));

/** A successful `--json` run: exit 0, nothing on stderr, one JSON document on stdout. */
export function parsed<T = any>(result: CliResult): T {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
  return JSON.parse(result.stdout);
}

/**
 * A failed `--json` run: the exit code, nothing on stdout, and the error
 * document as stderr's only line — or its last, after progress notes, for
 * commands that print them (`notes: true`).
 */
export function failed(result: CliResult, exitCode = 1, options: { notes?: boolean } = {}): { message: string; code: string } {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: exitCode, stdout: "" });
  const lines = result.stderr.trimEnd().split("\n");
  if (!options.notes) expect(lines).toHaveLength(1);
  const body = JSON.parse(lines.at(-1)!);
  expect(Object.keys(body)).toEqual(["error"]);
  return body.error;
}

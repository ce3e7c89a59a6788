import type { CliError } from "./errors";

type Write = (text: string) => void;

/**
 * Where a command's words go. The result goes to stdout; guidance for people
 * goes to stderr, so `$(qdz …)` captures only the result. With `--json`,
 * stdout holds exactly one JSON document and errors are JSON on stderr.
 */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly stdout: Write = (text) => void process.stdout.write(text),
    private readonly stderr: Write = (text) => void process.stderr.write(text),
  ) {}

  /** The command's result: `data` as JSON, or `human(data)` for people. */
  result<T>(data: T, human: (data: T) => string): void {
    if (this.json) this.stdout(`${JSON.stringify(data, null, 2)}\n`);
    else this.stdout(withNewline(human(data)));
  }

  /** A hint or warning for people; silent under `--json`. */
  note(text: string): void {
    if (!this.json) this.stderr(withNewline(text));
  }

  error(error: CliError): void {
    this.stderr(formatError(error, this.json));
  }
}

export function formatError(error: CliError, json: boolean): string {
  if (json) return `${JSON.stringify({ error: { message: error.message, code: error.code } })}\n`;
  return `error: ${error.message}\n`;
}

const withNewline = (text: string) => (text.endsWith("\n") || text === "" ? text : `${text}\n`);

/** Columns padded to their widest cell, two spaces apart, no trailing blanks. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join("  ")
      .trimEnd();
  return [line(headers.map((header) => header.toUpperCase())), ...rows.map(line)].join("\n");
}

/** Label/value lines, labels aligned: for one object, where a table would be one row wide. */
export function renderFields(fields: [label: string, value: string][]): string {
  const width = Math.max(...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `${`${label}:`.padEnd(width + 1)}  ${value}`).join("\n");
}

/** A timestamp as `2025-01-31 14:05 UTC`; `empty` where there is none. */
export function formatTime(value: Date | null | undefined, empty = "-"): string {
  if (value === null || value === undefined) return empty;
  return `${value.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

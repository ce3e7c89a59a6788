import { describe, expect, test } from "bun:test";
import { CliError, UsageError } from "../../src/cli/errors";
import { formatError, formatTime, Output, renderFields, renderTable } from "../../src/cli/output";

/** An Output writing into strings. */
function capture(json: boolean) {
  const written = { stdout: "", stderr: "" };
  const output = new Output(
    json,
    (text) => (written.stdout += text),
    (text) => (written.stderr += text),
  );
  return { output, written };
}

describe("Output", () => {
  test("people get the human rendering on stdout and notes on stderr", () => {
    const { output, written } = capture(false);
    output.note("Copy it now.");
    output.result({ secret: "qdz_x" }, (data) => data.secret);
    expect(written).toEqual({ stdout: "qdz_x\n", stderr: "Copy it now.\n" });
  });

  test("--json prints one JSON document and no notes", () => {
    const { output, written } = capture(true);
    output.note("Copy it now.");
    output.result({ secret: "qdz_x", at: new Date("2025-01-31T14:05:00Z") }, () => "ignored");
    expect(written.stderr).toBe("");
    expect(JSON.parse(written.stdout)).toEqual({ secret: "qdz_x", at: "2025-01-31T14:05:00.000Z" });
  });

  test("errors go to stderr: one line for people, a JSON object for scripts", () => {
    const human = capture(false);
    human.output.error(new CliError("Email or password is incorrect.", "UNAUTHORIZED"));
    expect(human.written).toEqual({ stdout: "", stderr: "error: Email or password is incorrect.\n" });

    const json = capture(true);
    json.output.error(new UsageError("missing required argument 'id'"));
    expect(json.written.stdout).toBe("");
    expect(JSON.parse(json.written.stderr)).toEqual({ error: { message: "missing required argument 'id'", code: "USAGE" } });
  });

  test("formatError ends with one newline", () => {
    expect(formatError(new CliError("x", "Y"), false)).toBe("error: x\n");
    expect(formatError(new CliError("x", "Y"), true)).toBe('{"error":{"message":"x","code":"Y"}}\n');
  });
});

describe("renderTable", () => {
  test("pads columns to the widest cell, upper-case headers, no trailing blanks", () => {
    const table = renderTable(
      ["id", "name", "status"],
      [
        ["key_1", "ci", "active"],
        ["key_22", "laptop", "revoked"],
      ],
    );
    expect(table).toBe(["ID      NAME    STATUS", "key_1   ci      active", "key_22  laptop  revoked"].join("\n"));
  });

  test("an empty last cell leaves no trailing blanks", () => {
    expect(renderTable(["a", "b"], [["x", ""]])).toBe("A  B\nx");
  });
});

describe("renderFields", () => {
  test("aligns labels", () => {
    expect(
      renderFields([
        ["account", "acct_1"],
        ["role", "owner"],
      ]),
    ).toBe("account:  acct_1\nrole:     owner");
  });
});

describe("formatTime", () => {
  test("to the minute in UTC", () => {
    expect(formatTime(new Date("2025-01-31T14:05:59.999Z"))).toBe("2025-01-31 14:05 UTC");
  });

  test("missing values show the placeholder", () => {
    expect(formatTime(null)).toBe("-");
    expect(formatTime(null, "never")).toBe("never");
    expect(formatTime(undefined)).toBe("-");
  });
});

import { describe, expect, test } from "bun:test";
import { type Firewall, type Rule, renderFirewall, renderVerdict, ruleOptions, type Verdict } from "../../src/cli/commands/firewalls/render";
import { nameRuleFields, parseRulesFile, piiCategories, rulesFromFlags, withRuleIds } from "../../src/cli/commands/firewalls/rules";
import { CliError, UsageError } from "../../src/cli/errors";

/** What `run` throws, checked to be a `kind` with exit code `exitCode`. */
function thrown<T extends CliError>(run: () => unknown, kind: new (...args: any[]) => T, exitCode: number): T {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(kind);
    expect((error as CliError).exitCode).toBe(exitCode);
    return error as T;
  }
  throw new Error("it was accepted");
}

describe("rulesFromFlags", () => {
  test("one rule per flag, in the order the flags were given", () => {
    expect(
      rulesFromFlags([
        { flag: "redact-secrets" },
        { flag: "deny", value: "acme" },
        { flag: "block-injection" },
        { flag: "deny", value: "globex" },
        { flag: "redact-pii", value: "emails,cards" },
        { flag: "regex", value: "\\bproject-\\d+\\b" },
        { flag: "max-chars", value: "2000" },
      ]),
    ).toEqual([
      { kind: "secrets", action: "redact" },
      { kind: "deny_list", action: "block", options: { terms: ["acme", "globex"] } },
      { kind: "prompt_injection", action: "block" },
      { kind: "pii", action: "redact", options: { categories: ["emails", "cards"] } },
      { kind: "regex", action: "block", options: { pattern: "\\bproject-\\d+\\b" } },
      { kind: "length_limit", action: "block", options: { maxChars: 2000 } },
    ]);
  });

  test("--regex-action applies to every --regex; a flag said twice makes one rule", () => {
    const rules = rulesFromFlags(
      [{ flag: "regex", value: "a" }, { flag: "block-injection" }, { flag: "regex", value: "b" }, { flag: "block-injection" }],
      "flag",
    );
    expect(rules.map((rule) => [rule.kind, rule.action])).toEqual([
      ["regex", "flag"],
      ["prompt_injection", "block"],
      ["regex", "flag"],
    ]);
  });

  test("no flags, no rules", () => {
    expect(rulesFromFlags([])).toEqual([]);
  });

  test("contradictory secrets flags and a lone --regex-action are usage errors", () => {
    expect(thrown(() => rulesFromFlags([{ flag: "flag-secrets" }, { flag: "redact-secrets" }]), UsageError, 2).message).toBe(
      "Use one of --flag-secrets, --block-secrets and --redact-secrets, not --flag-secrets and --redact-secrets.",
    );
    expect(thrown(() => rulesFromFlags([{ flag: "block-injection" }], "redact"), UsageError, 2).message).toContain("--regex-action needs --regex");
  });
});

describe("piiCategories", () => {
  test("all of them by default; a comma list, trimmed, lower-cased and deduplicated", () => {
    expect(piiCategories(undefined)).toEqual(["emails", "phones", "ibans", "cards"]);
    expect(piiCategories(" IBANs, cards,ibans")).toEqual(["ibans", "cards"]);
  });

  test("unknown or empty categories are named", () => {
    expect(thrown(() => piiCategories("emails,ssn,dob"), UsageError, 2).message).toStartWith("Unknown PII categories 'ssn', 'dob' for --redact-pii.");
    expect(thrown(() => piiCategories(" , "), UsageError, 2).message).toStartWith("No PII category given");
  });
});

describe("parseRulesFile", () => {
  test("a JSON array of rules, or a firewall as `show --json` prints it", () => {
    const rules = [{ kind: "secrets", action: "redact" }];
    expect(parseRulesFile(JSON.stringify(rules), "rules.json")).toEqual(rules as any);
    expect(parseRulesFile(JSON.stringify({ id: "fw_1", name: "copy me", rules }), "stdin")).toEqual(rules as any);
  });

  test("not JSON, not an array, or not objects: exit 1 naming the source", () => {
    expect(thrown(() => parseRulesFile("[{", "rules.json"), CliError, 1).message).toStartWith("rules.json is not JSON:");
    expect(thrown(() => parseRulesFile('{"kind":"secrets"}', "stdin"), CliError, 1).message).toContain("stdin must hold a JSON array of rules");
    expect(thrown(() => parseRulesFile('[{"kind":"secrets","action":"flag"}, "pii"]', "stdin"), CliError, 1).message).toBe(
      'Rule 2 in stdin is not an object with "kind" and "action".',
    );
  });
});

describe("withRuleIds", () => {
  test("r1, r2, … by position, keeping given ids and never reusing one", () => {
    const ids = withRuleIds([
      { kind: "secrets", action: "flag" },
      { id: "r3", kind: "prompt_injection", action: "block" },
      { kind: "pii", action: "redact" },
      { kind: "secrets", action: "block" },
      { id: "custom", kind: "pii", action: "flag" },
      { kind: "prompt_injection", action: "flag" },
    ]).map((rule) => rule.id);
    expect(ids).toEqual(["r1", "r3", "r4", "r5", "custom", "r6"]);
  });
});

describe("nameRuleFields", () => {
  const rules = [
    { id: "r1", kind: "secrets" },
    { id: "no-loops", kind: "regex" },
  ];

  test("turns the server's positions into rule ids and kinds", () => {
    expect(nameRuleFields("Pattern of rule 2: This pattern nests quantifiers.", rules)).toBe(
      "Pattern of rule no-loops (regex): This pattern nests quantifiers.",
    );
    expect(nameRuleFields("Give the firewall a name. Rule 1 is not valid.", rules)).toBe("Give the firewall a name. Rule r1 (secrets) is not valid.");
  });

  test("leaves other messages, and positions it cannot name, alone", () => {
    expect(nameRuleFields("Firewall fw_x not found.", rules)).toBe("Firewall fw_x not found.");
    expect(nameRuleFields("Id of rule 8: Rule id 'x' is used twice.", rules)).toBe("Id of rule 8: Rule id 'x' is used twice.");
  });
});

const rule = (overrides: Partial<Rule> & Pick<Rule, "kind">) => ({ id: "r1", action: "block", options: {}, ...overrides }) as Rule;

describe("rendering", () => {
  test("rule options in a few words", () => {
    expect(ruleOptions(rule({ kind: "secrets" }))).toBe("-");
    expect(ruleOptions(rule({ kind: "pii", options: { categories: ["emails", "cards"] } } as any))).toBe("emails, cards");
    expect(ruleOptions(rule({ kind: "deny_list", options: { terms: ["a", "b", "c", "d"] } } as any))).toBe('"a", "b", "c", … (4 terms)');
    expect(ruleOptions(rule({ kind: "regex", options: { pattern: "x\\d", caseInsensitive: true, maxInputChars: 4096 } } as any))).toBe(
      "/x\\d/i (windows of 4096 chars)",
    );
    expect(ruleOptions(rule({ kind: "length_limit", options: { maxChars: 10, maxMessages: 3 } } as any))).toBe("at most 10 chars, at most 3 messages");
  });

  test("a firewall lists its rules in order", () => {
    const firewall = {
      id: "fw_1",
      accountId: "acct_1",
      name: "public chat",
      description: null,
      rules: [rule({ id: "b", kind: "secrets", action: "redact" }), rule({ id: "a", kind: "prompt_injection" })],
      storePromptText: false,
      createdAt: new Date("2025-01-31T14:05:00.000Z"),
      updatedAt: new Date("2025-01-31T14:05:00.000Z"),
      instanceIds: [],
    } as unknown as Firewall;
    const text = renderFirewall(firewall);
    expect(text).toContain("attached to:            no instance");
    expect(text.indexOf("secrets")).toBeLessThan(text.indexOf("prompt_injection"));
    expect(renderFirewall({ ...firewall, rules: [] })).toContain("No rules: every prompt goes through.");
  });

  const verdict = (overrides: Partial<Verdict>): Verdict => ({ outcome: "allow", fired: [], redactedTexts: [], redactedText: null, ...overrides }) as Verdict;

  test("the test verdict names the blocking rule and its field", () => {
    const text = renderVerdict(
      verdict({
        outcome: "block",
        fired: [
          { ruleId: "r1", kind: "secrets", action: "flag", matches: 1, field: "prompt" },
          { ruleId: "r2", kind: "length_limit", action: "block", matches: 1, field: "*" },
        ],
        redactedTexts: null,
      }),
    );
    expect(text.split("\n")[0]).toBe("Blocked by rule r2 (length_limit) in the whole prompt.");
    expect(text).toContain("r1    secrets");
  });

  test("allowed, redacted (with the forwarded text) and flagged", () => {
    expect(renderVerdict(verdict({}))).toBe("Allowed: no rule fired.");
    const redacted = renderVerdict(
      verdict({
        outcome: "redact",
        fired: [
          { ruleId: "r1", kind: "pii", action: "redact", matches: 2, field: "prompt" },
          { ruleId: "r2", kind: "deny_list", action: "flag", matches: 1, field: "prompt" },
        ],
        redactedText: "mail [REDACTED:pii]",
      }),
    );
    expect(redacted).toStartWith("Allowed after redaction by r1; flagged by r2.");
    expect(redacted).toEndWith("Forwarded as:\nmail [REDACTED:pii]");
    expect(renderVerdict(verdict({ outcome: "flag", fired: [{ ruleId: "r9", kind: "regex", action: "flag", matches: 1, field: "prompt" }] }))).toStartWith(
      "Allowed; flagged by r9.",
    );
  });
});

/** Schema issues as a person reads them: a sentence naming the field in product words, from one place. */
import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { signupInput } from "../../src/accounts/schemas";
import { createFirewallInput } from "../../src/firewall/schemas";
import { safeString } from "../../src/validation";
import { describeIssues, fieldErrorsOf, fieldLabel, issuesOf } from "../../src/validation-messages";

function refusal(schema: z.ZodType, value: unknown): string {
  const parsed = schema.safeParse(value);
  if (parsed.success) throw new Error("the value was accepted");
  return describeIssues(parsed.error);
}

describe("field labels", () => {
  test("keys read aloud, known keys in product words, list entries by position", () => {
    expect(fieldLabel(["accountName"])).toBe("Account name");
    expect(fieldLabel(["email"])).toBe("Email");
    expect(fieldLabel(["success_url"])).toBe("Success URL");
    expect(fieldLabel(["servingName"])).toBe("Serving name");
    expect(fieldLabel(["rules", 1, "options", "pattern"])).toBe("Pattern of rule 2");
    expect(fieldLabel(["rules", 0])).toBe("Rule 1");
    expect(fieldLabel(["gpuPreferences", 2])).toBe("GPU type 3");
    expect(fieldLabel(["ids", 0])).toBe("Entry 1 of ids");
    expect(fieldLabel([])).toBe("");
  });
});

describe("each kind of issue", () => {
  const text = (schema: z.ZodType) => z.strictObject({ accountName: schema });

  test("too big and too small: strings, numbers and lists", () => {
    expect(refusal(signupInput, { email: "ada@example.com", password: "0123456789", accountName: "x".repeat(81) })).toBe(
      "Account name must be at most 80 characters.",
    );
    expect(refusal(signupInput, { email: "ada@example.com", password: "short" })).toBe("Password must be at least 10 characters.");
    expect(refusal(signupInput, { email: "ada@example.com", password: "0123456789", accountName: "   " })).toBe("Account name must not be empty.");
    expect(refusal(z.object({ maxTokens: z.number().int().min(1).max(32_768) }), { maxTokens: 40_000 })).toBe("Max tokens must be at most 32768.");
    expect(refusal(z.object({ amount_cents: z.number().positive() }), { amount_cents: 0 })).toBe("Amount must be more than 0.");
    expect(refusal(z.object({ amount_cents: z.number().lt(10) }), { amount_cents: 10 })).toBe("Amount must be less than 10.");
    expect(refusal(z.object({ regions: z.array(z.string()).min(1) }), { regions: [] })).toBe("Regions must not be empty.");
    expect(refusal(z.object({ regions: z.array(z.string()).max(2) }), { regions: ["a", "b", "c"] })).toBe("Regions must have at most 2 entries.");
    expect(refusal(z.object({ code: z.string().length(6) }), { code: "123" })).toBe("Code must be exactly 6 characters.");
  });

  test("wrong type, and a missing field", () => {
    expect(refusal(z.object({ gpuCount: z.number().int() }), { gpuCount: "two" })).toBe("GPU count must be a number.");
    expect(refusal(z.object({ gpuCount: z.number().int() }), { gpuCount: 1.5 })).toBe("GPU count must be a whole number.");
    expect(refusal(signupInput, { password: "0123456789" })).toBe("Email is required.");
    expect(refusal(z.object({ storePromptText: z.boolean() }), { storePromptText: "yes" })).toBe("Store prompt text must be true or false.");
  });

  test("formats", () => {
    expect(refusal(signupInput, { email: "nope", password: "0123456789" })).toBe("Email must be a valid email address.");
    expect(refusal(z.object({ url: z.url() }), { url: "nope" })).toBe("URL must be a valid URL.");
    expect(refusal(z.object({ servingName: z.string().regex(/^[a-z]+$/) }), { servingName: "A" })).toBe("Serving name is not in the expected format.");
    expect(refusal(z.object({ name: z.string().startsWith("qdz_") }), { name: "x" })).toBe("Name must start with 'qdz_'.");
  });

  test("one of a set of values, and a tag that matched nothing", () => {
    expect(refusal(z.object({ role: z.enum(["owner", "member"]) }), { role: "admin" })).toBe("Role must be one of 'owner' or 'member'.");
    expect(refusal(z.object({ currency: z.literal("eur") }), { currency: "usd" })).toBe("Currency must be 'eur'.");
    expect(refusal(createFirewallInput, { name: "strict", rules: [{ id: "r", kind: "nope", action: "block", options: {} }] })).toBe(
      "Kind of rule 1 must be one of 'prompt_injection', 'secrets', 'pii', 'deny_list', 'regex' or 'length_limit'.",
    );
  });

  test("unknown fields", () => {
    expect(refusal(text(z.string()), { accountName: "a", plan: "pro" })).toBe("The request has a field it does not know: 'plan'.");
    expect(refusal(z.object({ settings: z.strictObject({}) }), { settings: { a: 1, b: 2 } })).toBe("Settings has fields it does not know: 'a' and 'b'.");
  });

  test("custom checks: a schema's own sentence is kept, a predicate gets the field's name, one in a list says which entry", () => {
    expect(refusal(text(safeString()), { accountName: "a\u0000b" })).toBe("Account name must not contain NUL characters or unpaired surrogates.");
    expect(
      refusal(
        z.object({ a: z.string() }).refine(() => false, { message: "Choose either a runtime or a template." }),
        { a: "x" },
      ),
    ).toBe("Choose either a runtime or a template.");
    expect(refusal(text(z.string().refine(() => false)), { accountName: "x" })).toBe("Account name is not valid.");
    expect(
      refusal(createFirewallInput, { name: "strict", rules: [{ id: "r", kind: "regex", action: "block", options: { pattern: "(x+)\\1y" } }] }),
    ).toStartWith("Pattern of rule 1: `\\1` is a backreference, which is not supported.");
  });
});

test("several issues: one sentence each, and each under its field for the forms", () => {
  const parsed = signupInput.safeParse({ email: "nope", password: "short", accountName: "x".repeat(81) });
  expect(parsed.success).toBe(false);
  expect(describeIssues(parsed.error!)).toBe(
    "Email must be a valid email address. Password must be at least 10 characters. Account name must be at most 80 characters.",
  );
  expect(fieldErrorsOf(parsed.error!)).toEqual({
    email: ["Email must be a valid email address."],
    password: ["Password must be at least 10 characters."],
    accountName: ["Account name must be at most 80 characters."],
  });
  const rules = createFirewallInput.safeParse({ name: "", rules: [{ id: "r", kind: "regex", action: "block", options: { pattern: "(x+)\\1y" } }] });
  expect(issuesOf(rules.error!).map((i) => i.path)).toEqual(["name", "rules.0.options.pattern"]);
});

import { z } from "zod";
import { safeString } from "../../validation";
import { compiledPattern } from "./custom-regex";
import { unicodeClassCount } from "./re2-syntax";

export const ruleActions = ["block", "redact", "flag"] as const;
export type RuleAction = (typeof ruleActions)[number];

const ruleBase = {
  /** Stable within its firewall: events and block messages name it. */
  id: safeString()
    .trim()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_.-]+$/, { message: "Use letters, digits, '.', '_' or '-'." }),
  action: z.enum(ruleActions),
};

const promptInjectionRule = z.object({ ...ruleBase, kind: z.literal("prompt_injection"), options: z.object({}).strict().default({}) });

const secretsRule = z.object({ ...ruleBase, kind: z.literal("secrets"), options: z.object({}).strict().default({}) });

export const piiCategories = ["emails", "phones", "ibans", "cards"] as const;
export type PiiCategory = (typeof piiCategories)[number];

const piiRule = z.object({
  ...ruleBase,
  kind: z.literal("pii"),
  options: z
    .object({
      /** Which detectors run; all of them when omitted. */
      categories: z
        .array(z.enum(piiCategories))
        .min(1)
        .default([...piiCategories]),
    })
    .strict()
    .default({ categories: [...piiCategories] }),
});

const denyListRule = z.object({
  ...ruleBase,
  kind: z.literal("deny_list"),
  options: z.object({ terms: z.array(safeString().trim().min(1).max(200)).min(1).max(1000) }).strict(),
});

const MAX_PATTERN_CHARS = 1000;

const regexRule = z.object({
  ...ruleBase,
  kind: z.literal("regex"),
  options: z
    .object({
      /** RE2 syntax, checked with the firewall's other patterns (`rulesSchema`): compiling them has a budget. */
      pattern: safeString().min(1).max(MAX_PATTERN_CHARS),
      caseInsensitive: z.boolean().default(false),
      /** Longer texts are read in windows of at most this many characters: a window is the unit between budget checks. */
      maxInputChars: z.number().int().min(64).max(65_536).default(4096),
    })
    .strict(),
});

const lengthLimitRule = z.object({
  ...ruleBase,
  // Redacting "too long" has no meaning: a length limit blocks or flags.
  action: z.enum(["block", "flag"]),
  kind: z.literal("length_limit"),
  options: z
    .object({
      maxChars: z.number().int().positive().optional(),
      maxMessages: z.number().int().positive().optional(),
    })
    .strict()
    .refine((o) => o.maxChars !== undefined || o.maxMessages !== undefined, { message: "Set maxChars, maxMessages or both." }),
});

export const ruleSchema = z.discriminatedUnion("kind", [promptInjectionRule, secretsRule, piiRule, denyListRule, regexRule, lengthLimitRule]);

/**
 * What compiling one firewall's custom patterns may cost, together, counted
 * rather than timed, so whether a firewall saves never depends on how busy the
 * machine is. RE2 compiles most patterns in well under a millisecond; what is
 * slow is a Unicode property class (`\pL`, `\P{Greek}`), above all with
 * case-insensitivity: ~1 ms apiece here, so a hundred patterns packed with
 * them would hold the event loop for seconds on every save (and on the first
 * prompt screened after it). At most this many per firewall: ~50 ms at worst.
 */
export const MAX_UNICODE_CLASSES = 48;

/**
 * Every custom pattern compiles as RE2 (the same compiled pattern then serves
 * screening), within the firewall's Unicode class allowance; past it, nothing
 * more is compiled. Refinements run on what did not parse too, hence the checks.
 */
function checkPatterns(rules: readonly Rule[], ctx: z.RefinementCtx) {
  let unicodeClasses = 0;
  for (const [index, rule] of rules.entries()) {
    if (rule?.kind !== "regex" || typeof rule.options?.pattern !== "string" || rule.options.pattern.length > MAX_PATTERN_CHARS) continue;
    const path = [index, "options", "pattern"];
    unicodeClasses += unicodeClassCount(rule.options.pattern);
    if (unicodeClasses > MAX_UNICODE_CLASSES) {
      const message = `This firewall's custom patterns use ${unicodeClasses} Unicode property classes (\\p…) so far; at most ${MAX_UNICODE_CLASSES} per firewall, as each takes time to compile. Use plain classes such as [a-z] where they will do, or drop a pattern.`;
      ctx.addIssue({ code: "custom", path, message });
      return;
    }
    const compiled = compiledPattern(rule.options.pattern, rule.options.caseInsensitive === true);
    if ("refusal" in compiled) ctx.addIssue({ code: "custom", path, message: compiled.refusal });
  }
}

export const rulesSchema = z
  .array(ruleSchema)
  .max(100)
  .superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.forEach((rule, index) => {
      if (seen.has(rule.id)) ctx.addIssue({ code: "custom", path: [index, "id"], message: `Rule id '${rule.id}' is used twice.` });
      seen.add(rule.id);
    });
    checkPatterns(rules, ctx);
  });

export type Rule = z.infer<typeof ruleSchema>;
export type RuleInput = z.input<typeof ruleSchema>;
export type RuleKind = Rule["kind"];

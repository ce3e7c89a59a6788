import { z } from "zod";
import { regexRefusal } from "./regex-safety";

export const ruleActions = ["block", "redact", "flag"] as const;
export type RuleAction = (typeof ruleActions)[number];

const ruleBase = {
  /** Stable within its firewall: events and block messages name it. */
  id: z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/, { message: "Use letters, digits, '.', '_' or '-'." }),
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
      categories: z.array(z.enum(piiCategories)).min(1).default([...piiCategories]),
    })
    .strict()
    .default({ categories: [...piiCategories] }),
});

const denyListRule = z.object({
  ...ruleBase,
  kind: z.literal("deny_list"),
  options: z
    .object({ terms: z.array(z.string().trim().min(1).max(200)).min(1).max(1000) })
    .strict(),
});

const regexRule = z.object({
  ...ruleBase,
  kind: z.literal("regex"),
  options: z
    .object({
      pattern: z
        .string()
        .min(1)
        .max(1000)
        .superRefine((pattern, ctx) => {
          const refusal = regexRefusal(pattern);
          if (refusal) ctx.addIssue({ code: "custom", message: refusal });
        }),
      caseInsensitive: z.boolean().default(false),
      /** Each check looks at windows of at most this many characters, so a slow pattern stays bounded. */
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

export const rulesSchema = z.array(ruleSchema).max(100).superRefine((rules, ctx) => {
  const seen = new Set<string>();
  rules.forEach((rule, index) => {
    if (seen.has(rule.id)) ctx.addIssue({ code: "custom", path: [index, "id"], message: `Rule id '${rule.id}' is used twice.` });
    seen.add(rule.id);
  });
});

export type Rule = z.infer<typeof ruleSchema>;
export type RuleInput = z.input<typeof ruleSchema>;
export type RuleKind = Rule["kind"];

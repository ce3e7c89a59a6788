import { z } from "zod";
import { ruleActions, ruleSchema } from "../../src/firewall/rules/schemas";
import { instant, nextCursor } from "./responses";

/* What the firewall routes answer (routes/firewalls.ts): the verbs' own shapes, as tRPC's `firewalls` router answers them. */

/** A rule as saved: the create and update bodies' rules with their defaults filled in. */
const rule = ruleSchema.meta({ id: "FirewallRule" });

export const firewall = z
  .object({
    id: z.string(),
    accountId: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    rules: z.array(rule).meta({ description: "In the order they run." }),
    storePromptText: z.boolean().meta({ description: "Whether block and flag events keep an excerpt of the prompt." }),
    createdAt: instant,
    updatedAt: instant,
  })
  .meta({ id: "Firewall" });

export const firewallWithInstances = firewall
  .extend({ instanceIds: z.array(z.string()).meta({ description: "The instances it screens." }) })
  .meta({ id: "FirewallWithInstances" });
export const firewallList = z.object({ data: z.array(firewallWithInstances) }).meta({ id: "FirewallList" });

export const attachment = z
  .object({ instanceId: z.string(), firewallId: z.string().nullable().meta({ description: "Null: the instance has no firewall now." }) })
  .meta({ id: "FirewallAttachment" });

const kind = z.enum(["prompt_injection", "secrets", "pii", "deny_list", "regex", "length_limit"]);
export const verdict = z
  .object({
    outcome: z.enum(["allow", "block", "redact", "flag"]).meta({ description: "The strongest action that fired." }),
    fired: z.array(
      z.object({
        ruleId: z.string(),
        kind,
        action: z.enum(ruleActions),
        matches: z.int(),
        field: z.string(),
        unscreened: z
          .enum(["budget", "pattern"])
          .optional()
          .meta({ description: "A custom pattern that could not read all of the prompt (its budget ran out, or it cannot compile)." }),
      }),
    ),
    redactedTexts: z.array(z.object({ field: z.string(), text: z.string() })).nullable(),
    redactedText: z.string().nullable().meta({ description: "The prompt as it would be forwarded; null when blocked." }),
  })
  .meta({ id: "FirewallVerdict" });

export const firewallEvent = z
  .object({
    id: z.int(),
    accountId: z.string(),
    instanceId: z.string().nullable(),
    firewallId: z.string().nullable().meta({ description: "Null once the firewall is deleted." }),
    ruleId: z.string(),
    ruleKind: z.string(),
    action: z.enum(["block", "flag"]),
    field: z.string().meta({ description: "Where in the request body (`messages[1].content`); `*` for a length limit." }),
    matches: z.int(),
    promptExcerpt: z.string().nullable().meta({ description: "Only when the firewall keeps prompt text." }),
    at: instant,
  })
  .meta({ id: "FirewallEvent" });
export const firewallEventPage = z.object({ data: z.array(firewallEvent), next_cursor: nextCursor }).meta({ id: "FirewallEventPage" });

import { bigserial, boolean, index, integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { accounts } from "./accounts";
import { createdAt, prefixedId, timestamptz } from "./columns";
import { instances } from "./instances";

/**
 * A firewall rule as the column holds it. Its full shape (per kind) belongs
 * to the firewall domain, which validates every write and reads rows back as
 * its own `Rule` type in one place (`src/firewall/stored.ts`).
 */
export interface StoredFirewallRule {
  id: string;
  kind: string;
  action: string;
  options: Record<string, unknown>;
}

/** An account's ordered prompt rules, attached to instances (and picked per request in the playground). */
export const firewalls = pgTable(
  "firewalls",
  {
    id: prefixedId(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description"),
    /** Ordered; validated by `rulesSchema` on every write, so readers trust the shape. */
    rules: jsonb("rules").$type<StoredFirewallRule[]>().notNull(),
    /** The account's opt-in to keep an excerpt of the prompt in events; off, events hold no prompt text. */
    storePromptText: boolean("store_prompt_text").notNull().default(false),
    ...createdAt,
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
  },
  (t) => [index("firewalls_account_idx").on(t.accountId, t.createdAt)],
);

/** At most one firewall per instance: the instance id is the key. */
export const instanceFirewalls = pgTable("instance_firewalls", {
  instanceId: text("instance_id")
    .primaryKey()
    .references(() => instances.id, { onDelete: "cascade" }),
  // Deleting a firewall detaches it: instances then forward prompts unscreened, as before attaching.
  firewallId: text("firewall_id")
    .notNull()
    .references(() => firewalls.id, { onDelete: "cascade" }),
  ...createdAt,
});

/** A rule that blocked or flagged a prompt. Redactions are not recorded: the prompt went on, minus the match. */
export const firewallEvents = pgTable(
  "firewall_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    /** Null for a playground test outside any instance. */
    instanceId: text("instance_id").references(() => instances.id, { onDelete: "cascade" }),
    firewallId: text("firewall_id").references(() => firewalls.id, { onDelete: "set null" }),
    ruleId: text("rule_id").notNull(),
    ruleKind: text("rule_kind").notNull(),
    action: text("action", { enum: ["block", "flag"] }).notNull(),
    /** Where in the request body (`messages[1].content`); `*` for length limits. */
    field: text("field").notNull(),
    /** Matches found; 0 when a custom pattern fired because it could not read the whole prompt (budget, or a pattern RE2 cannot compile). */
    matches: integer("matches").notNull(),
    /** Only when the firewall's `store_prompt_text` is on: the start of the text that fired. */
    promptExcerpt: text("prompt_excerpt"),
    at: timestamptz("at").notNull().defaultNow(),
  },
  (t) => [index("firewall_events_instance_idx").on(t.instanceId, t.id), index("firewall_events_firewall_idx").on(t.firewallId, t.id)],
);

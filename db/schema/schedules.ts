import { sql } from "drizzle-orm";
import { bigserial, boolean, index, pgEnum, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { accounts } from "./accounts";
import { createdAt, prefixedId, timestamptz } from "./columns";
import { instances } from "./instances";

export const scheduleAction = pgEnum("schedule_action", ["start", "stop"]);

/**
 * A cron rule that starts or stops one instance, in its own IANA zone. `next_run_at` (UTC) is the next time it
 * is due, computed by src/schedules/cron.ts (croner) whenever the rule changes or fires; null while disabled. The
 * scheduler finds due rules with one indexed range read on it.
 */
export const scheduleRules = pgTable(
  "schedule_rules",
  {
    id: prefixedId(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    instanceId: text("instance_id")
      .notNull()
      .references(() => instances.id, { onDelete: "cascade" }),
    action: scheduleAction("action").notNull(),
    /** As written (5 fields, or `@daily`-style names), after validation. */
    cron: text("cron").notNull(),
    timeZone: text("time_zone").notNull(),
    enabled: boolean("enabled").notNull().default(true),
    note: text("note"),
    nextRunAt: timestamptz("next_run_at"),
    ...createdAt,
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
  },
  (t) => [index("schedule_rules_due_idx").on(t.nextRunAt).where(sql`${t.nextRunAt} is not null`), index("schedule_rules_instance_idx").on(t.instanceId)],
);

export const scheduleOutcome = pgEnum("schedule_outcome", ["succeeded", "skipped", "failed", "missed"]);

/**
 * Every time a rule was due, and what came of it: kept forever, with the rule's expression and zone as they were,
 * so the history reads true after the rule is edited or deleted (no foreign key to the rule). One row per rule and
 * due time: the unique key is what makes a due time fire once, however many schedulers look.
 */
export const scheduleExecutions = pgTable(
  "schedule_executions",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    ruleId: text("rule_id").notNull(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    instanceId: text("instance_id").notNull(),
    action: scheduleAction("action").notNull(),
    cron: text("cron").notNull(),
    timeZone: text("time_zone").notNull(),
    /** The due time (UTC) this execution is for. */
    dueAt: timestamptz("due_at").notNull(),
    executedAt: timestamptz("executed_at").notNull().defaultNow(),
    outcome: scheduleOutcome("outcome").notNull(),
    /** Why it was skipped, failed or missed, in words people read. */
    detail: text("detail"),
  },
  (t) => [
    uniqueIndex("schedule_executions_rule_due_key").on(t.ruleId, t.dueAt),
    // The history, newest first: ids grow with execution time.
    index("schedule_executions_instance_idx").on(t.instanceId, t.id),
  ],
);

import { sql } from "drizzle-orm";
import { bigserial, index, jsonb, pgEnum, pgTable, text } from "drizzle-orm/pg-core";
import { accounts } from "./accounts";
import { timestamptz } from "./columns";

/** Who acted: a person, an API key, a schedule rule firing, or the platform itself (budget and grace stops, credits). */
export const auditActorKind = pgEnum("audit_actor_kind", ["user", "api_key", "schedule", "system"]);

/**
 * What happened, `<subject>.<verb>`: a fixed list, so filters and the CLI can name every kind. A new kind is a
 * migration (`ALTER TYPE … ADD VALUE`), on purpose: the trail's vocabulary changes in review, not by accident.
 */
export const auditKind = pgEnum("audit_kind", [
  "account.signed_up",
  "account.renamed",
  "session.signed_in",
  "api_key.created",
  "api_key.revoked",
  "member.invited",
  "member.invite_revoked",
  "member.joined",
  "member.role_changed",
  "member.removed",
  "member.left",
  "instance.launched",
  "instance.started",
  "instance.stopped",
  "instance.deleted",
  "instance.settings_changed",
  "firewall.created",
  "firewall.updated",
  "firewall.deleted",
  "firewall.attached",
  "firewall.detached",
  "schedule.rule_created",
  "schedule.rule_updated",
  "schedule.rule_deleted",
  "budget.set",
  "budget.removed",
  "webhook.endpoint_set",
  "webhook.endpoint_removed",
  "webhook.secret_rotated",
  "billing.topup_credited",
  "billing.adjustment_posted",
]);

/**
 * The account's audit trail: append-only (migration 0017's trigger; the app role may only insert and select,
 * src/platform/app-privileges.ts) and kept forever. Written by src/audit/record.ts only, in the transaction of
 * the change it describes. No foreign key but the account's: the trail outlives the keys, rules and instances it names.
 */
export const auditEvents = pgTable(
  "audit_events",
  {
    /** Grows with insertion: the trail's order and its paging cursor. */
    id: bigserial("id", { mode: "number" }).primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    /** The database clock at the change's transaction. */
    at: timestamptz("at").notNull().defaultNow(),
    actorKind: auditActorKind("actor_kind").notNull(),
    /** The user, key or schedule rule id; null for the platform. */
    actorId: text("actor_id"),
    /** As it was at the time: the user's email, the key's shown prefix (`qdz_Ab12cdEF`), the rule id. */
    actorLabel: text("actor_label"),
    /** An API key's scope when it acted (`inference`, `read`, `full`); null for other actors. */
    actorScope: text("actor_scope"),
    /** The request that made the change (`x-request-id`); null for jobs and the scheduler. */
    requestId: text("request_id"),
    kind: auditKind("kind").notNull(),
    /** What the change was about: an instance, key, member, firewall, rule, checkout id; null for the account itself. */
    subjectId: text("subject_id"),
    /** A small `{before, after}` of the fields that changed (src/audit/schemas.ts); never a secret. */
    changes: jsonb("changes").notNull().default(sql`'{}'::jsonb`),
  },
  (t) => [
    // The Activity list and `qdz audit`, newest first, with or without a kind.
    index("audit_events_account_idx").on(t.accountId, t.id),
    index("audit_events_account_kind_idx").on(t.accountId, t.kind, t.id),
  ],
);

import { sql } from "drizzle-orm";
import { bigint, boolean, check, index, integer, jsonb, pgEnum, pgTable, smallint, text, uniqueIndex } from "drizzle-orm/pg-core";
import { accounts } from "./accounts";
import { createdAt, prefixedId, timestamptz } from "./columns";

/**
 * A monthly spend cap (EUR cents) for an account (no instance) or one of its instances. The month is the UTC
 * calendar month, the same months the usage rollups are summed in. `alerted*` is the watcher's memory of the
 * highest threshold it announced, for which month and which amount: raising the budget re-arms its alerts.
 */
export const budgets = pgTable(
  "budgets",
  {
    id: prefixedId(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    /** Null: the account's budget. No foreign key to instances, as elsewhere: the row goes with the instance's delete. */
    instanceId: text("instance_id"),
    monthlyCents: bigint("monthly_cents", { mode: "number" }).notNull(),
    /** Account budgets only: at 100 % also stop running instances (launches are refused either way). */
    stopRunning: boolean("stop_running").notNull().default(false),
    alertedMonth: text("alerted_month"),
    alertedCents: bigint("alerted_cents", { mode: "number" }),
    alertedPercent: smallint("alerted_percent").notNull().default(0),
    ...createdAt,
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("budgets_account_key").on(t.accountId).where(sql`${t.instanceId} is null`),
    uniqueIndex("budgets_instance_key").on(t.instanceId).where(sql`${t.instanceId} is not null`),
    check("budgets_monthly_cents_check", sql`${t.monthlyCents} > 0`),
    check("budgets_stop_running_check", sql`${t.instanceId} is null or not ${t.stopRunning}`),
  ],
);

export const notificationKind = pgEnum("notification_kind", ["budget", "runway", "grace_started", "refund", "instance_failed", "webhook_test"]);

/**
 * The account's alerts, newest first: the bell's list. `dedup_key` makes each alert happen once (one per
 * threshold crossing, refund, failed run); an insert that meets it does nothing.
 */
export const notifications = pgTable(
  "notifications",
  {
    id: prefixedId(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    kind: notificationKind("kind").notNull(),
    dedupKey: text("dedup_key").notNull(),
    severity: text("severity", { enum: ["info", "warning", "critical"] }).notNull(),
    title: text("title").notNull(),
    body: text("body").notNull(),
    instanceId: text("instance_id"),
    /** The machine-readable facts the webhook carries (percent, cents, runway hours, run id). */
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
    ...createdAt,
    readAt: timestamptz("read_at"),
  },
  (t) => [
    uniqueIndex("notifications_account_dedup_key").on(t.accountId, t.dedupKey),
    index("notifications_account_created_idx").on(t.accountId, t.createdAt, t.id),
    index("notifications_account_unread_idx").on(t.accountId).where(sql`${t.readAt} is null`),
  ],
);

/** The watcher's memory of each account's runway alert: 0 at or above 24 h, 1 below 24 h, 2 below 1 h. */
export const runwayAlertLevels = pgTable("runway_alert_levels", {
  accountId: text("account_id")
    .primaryKey()
    .references(() => accounts.id, { onDelete: "cascade" }),
  level: smallint("level").notNull(),
  updatedAt: timestamptz("updated_at").notNull().defaultNow(),
});

/** Where an account's alerts are POSTed, signed with the secret (`whsec_…`) as Stripe signs its own. One per account. */
export const webhookEndpoints = pgTable("webhook_endpoints", {
  accountId: text("account_id")
    .primaryKey()
    .references(() => accounts.id, { onDelete: "cascade" }),
  url: text("url").notNull(),
  secret: text("secret").notNull(),
  enabled: boolean("enabled").notNull().default(true),
  ...createdAt,
  updatedAt: timestamptz("updated_at").notNull().defaultNow(),
});

export const webhookDeliveryStatus = pgEnum("webhook_delivery_status", ["pending", "delivered", "failed"]);

/** One alert sent to the account's endpoint: its body as signed, its attempts, and how it ended. The delivery log. */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: prefixedId(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    notificationId: text("notification_id").notNull(),
    url: text("url").notNull(),
    /** The exact bytes POSTed on every attempt (the event's id and type are inside). */
    payload: text("payload").notNull(),
    status: webhookDeliveryStatus("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    ...createdAt,
    lastAttemptAt: timestamptz("last_attempt_at"),
    deliveredAt: timestamptz("delivered_at"),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_notification_key").on(t.notificationId),
    index("webhook_deliveries_account_created_idx").on(t.accountId, t.createdAt, t.id),
  ],
);

/** Every attempt of a delivery: when, what came back, how long it took. */
export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    at: timestamptz("at").notNull().defaultNow(),
    statusCode: integer("status_code"),
    error: text("error"),
    durationMs: integer("duration_ms").notNull(),
  },
  (t) => [uniqueIndex("webhook_attempts_delivery_attempt_key").on(t.deliveryId, t.attempt)],
);

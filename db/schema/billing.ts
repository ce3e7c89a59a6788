import { sql } from "drizzle-orm";
import { bigint, bigserial, check, index, jsonb, pgEnum, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { accounts } from "./accounts";
import { createdAt, prefixedId, timestamptz } from "./columns";

export const ledgerKind = pgEnum("ledger_kind", ["topup", "debit", "refund", "adjustment"]);

/**
 * The append-only ledger: every change to a balance is one row here, and
 * rows are never updated or deleted (a trigger refuses it). Amounts are
 * signed integer EUR cents: top-ups and refunds add, debits subtract.
 */
export const ledgerEntries = pgTable(
  "ledger_entries",
  {
    id: prefixedId(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    kind: ledgerKind("kind").notNull(),
    amountCents: bigint("amount_cents", { mode: "number" }).notNull(),
    /** Idempotency reference, unique per account: `cs_…` for a top-up, `debit:<instance>:<period>`, `refund:<instance>:<run>`. */
    reference: text("reference").notNull(),
    /** The instance a debit or refund is for; no foreign key, so deleting an instance keeps its money history. */
    instanceId: text("instance_id"),
    description: text("description"),
    ...createdAt,
  },
  (t) => [
    uniqueIndex("ledger_entries_account_reference_key").on(t.accountId, t.reference),
    // The ledger page, newest first, and its keyset cursor; balances are stored, so no read sums an account's entries.
    index("ledger_entries_account_created_idx").on(t.accountId, t.createdAt, t.id),
    // The page filtered to a rare kind (top-ups, refunds, adjustments). Debits, nearly every row, stay out of it, so
    // the tick's inserts never touch it; `listLedger` states the predicate as a literal for prepared statements.
    index("ledger_entries_account_kind_created_idx").on(t.accountId, t.kind, t.createdAt, t.id).where(sql`${t.kind} <> 'debit'`),
    index("ledger_entries_instance_idx").on(t.instanceId),
    check(
      "ledger_entries_sign_check",
      sql`(${t.kind} in ('topup', 'refund') and ${t.amountCents} > 0)
        or (${t.kind} = 'debit' and ${t.amountCents} < 0)
        or (${t.kind} = 'adjustment' and ${t.amountCents} <> 0)`,
    ),
  ],
);

/** The balance kept for speed; written in the same transaction as each entry and checked against their sum. */
export const accountBalances = pgTable("account_balances", {
  accountId: text("account_id")
    .primaryKey()
    .references(() => accounts.id, { onDelete: "cascade" }),
  balanceCents: bigint("balance_cents", { mode: "number" }).notNull().default(0),
  /** When the balance went below zero; null while it is zero or above. Launches are refused meanwhile. */
  graceStartedAt: timestamptz("grace_started_at"),
  updatedAt: timestamptz("updated_at").notNull().defaultNow(),
});

export const checkoutStatus = pgEnum("checkout_status", ["open", "paid", "canceled"]);

/** A top-up in progress at Stripe (or the development gateway); credited once, when the gateway confirms. */
export const checkoutSessions = pgTable(
  "checkout_sessions",
  {
    /** The gateway's session id (`cs_…`), also the top-up's ledger reference. */
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    gateway: text("gateway", { enum: ["stripe", "dev"] }).notNull(),
    amountCents: bigint("amount_cents", { mode: "number" }).notNull(),
    currency: text("currency").notNull(),
    url: text("url").notNull(),
    successUrl: text("success_url").notNull(),
    cancelUrl: text("cancel_url").notNull(),
    status: checkoutStatus("status").notNull().default("open"),
    ...createdAt,
    completedAt: timestamptz("completed_at"),
  },
  (t) => [index("checkout_sessions_account_idx").on(t.accountId)],
);

/** Webhook events already handled, by Stripe's event id: a redelivery is answered 2xx and changes nothing. */
export const stripeEvents = pgTable("stripe_events", {
  id: text("id").primaryKey(),
  type: text("type").notNull(),
  receivedAt: timestamptz("received_at").notNull().defaultNow(),
});

export const paymentReviewReason = pgEnum("payment_review_reason", [
  "malformed",
  "unknown_checkout",
  "checkout_not_open",
  "amount_mismatch",
  "currency_mismatch",
]);

/**
 * Correctly signed webhook events that were not credited because they are
 * malformed or disagree with the checkout we stored: kept for an operator to
 * review, never credited on their own.
 */
export const paymentReviews = pgTable(
  "payment_reviews",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    reason: paymentReviewReason("reason").notNull(),
    /** The gateway's event id and type, when the event had them. */
    eventId: text("event_id"),
    eventType: text("event_type"),
    checkoutId: text("checkout_id"),
    /** The account of the stored checkout, when there is one; no foreign key, so the review outlives it. */
    accountId: text("account_id"),
    /** What disagreed (event vs stored amount and currency, the checkout's status), or the parse error. */
    detail: jsonb("detail").notNull(),
    receivedAt: timestamptz("received_at").notNull().defaultNow(),
    resolvedAt: timestamptz("resolved_at"),
  },
  (t) => [index("payment_reviews_open_idx").on(t.receivedAt).where(sql`${t.resolvedAt} is null`)],
);

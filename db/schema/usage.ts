import { sql } from "drizzle-orm";
import { bigint, boolean, check, index, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns";

/**
 * The usage rollups: what metering billed, summed per UTC hour (or day) of the ledger entries' `created_at`.
 * The hourly tables are written in the transaction that writes the entries (the billing tick's statement, a
 * settlement's refund), so each sums to the ledger's debits and refunds of its instances exactly; the daily one
 * is folded from the instance hours once a day is over (`usage.fold-days`). Never written by anything else.
 * No foreign keys: like the ledger, a deleted instance keeps its history, and a row is only ever written beside a
 * ledger entry of its account, whose own key already holds (a check per inserted row would cost the tick a third more).
 */
const amounts = {
  /** Debited (positive cents). */
  costCents: bigint("cost_cents", { mode: "number" }).notNull().default(0),
  /** Billable seconds metered (a run's new whole seconds land in the hour of the tick that bills them, with or without a new cent). */
  billableSeconds: bigint("billable_seconds", { mode: "number" }).notNull().default(0),
  /** Refunded (positive cents), apart from the cost. */
  refundedCents: bigint("refunded_cents", { mode: "number" }).notNull().default(0),
};

const account = () => text("account_id").notNull();

/** Per instance and UTC hour: the Usage tab's series and the account page's stacks. */
export const instanceUsageHourly = pgTable(
  "instance_usage_hourly",
  {
    instanceId: text("instance_id").notNull(),
    /** The UTC hour's start. */
    hour: timestamptz("hour").notNull(),
    accountId: account(),
    ...amounts,
  },
  (t) => [
    primaryKey({ name: "instance_usage_hourly_pkey", columns: [t.instanceId, t.hour] }),
    index("instance_usage_hourly_account_idx").on(t.accountId, t.hour),
    // The fold reads one whole day of every instance. Rows arrive in hour order, so a block range index finds
    // the day for a few pages, where a B-tree would cost every tick's insert another index to keep.
    index("instance_usage_hourly_hour_brin").using("brin", t.hour),
  ],
);

/**
 * Per instance and UTC day: the account page's ranking of instances over 30 or 90 days reads a day's row
 * instead of its 24 hours (1,000 instances over 90 days: 90,000 rows, not 2.16 million). Holds the days before
 * `usage_daily_fold.folded_through`, each the exact sum of its instance hours; readers take later hours from
 * `instance_usage_hourly`. Folded rather than written by the tick: a third upsert per billed run was a tenth
 * of the tick's time at 100,000 runs.
 */
export const instanceUsageDaily = pgTable(
  "instance_usage_daily",
  {
    instanceId: text("instance_id").notNull(),
    /** The UTC day's start. */
    day: timestamptz("day").notNull(),
    accountId: account(),
    ...amounts,
  },
  (t) => [primaryKey({ name: "instance_usage_daily_pkey", columns: [t.instanceId, t.day] }), index("instance_usage_daily_account_idx").on(t.accountId, t.day)],
);

/** Per account and UTC hour, every instance together: the account page's bars and cards. */
export const accountUsageHourly = pgTable(
  "account_usage_hourly",
  {
    accountId: account(),
    /** The UTC hour's start. */
    hour: timestamptz("hour").notNull(),
    ...amounts,
  },
  (t) => [primaryKey({ name: "account_usage_hourly_pkey", columns: [t.accountId, t.hour] })],
);

/**
 * One row: the daily rollup holds every UTC day before `folded_through` (see `foldUsageDays`). Readers split
 * their range at it inside one snapshot, so a fold committing between two reads never counts a day twice.
 */
export const usageDailyFold = pgTable(
  "usage_daily_fold",
  {
    /** Always true: the table has one row. */
    singleton: boolean("singleton").primaryKey().default(true),
    /** A UTC day's start. */
    foldedThrough: timestamptz("folded_through").notNull(),
  },
  (t) => [check("usage_daily_fold_one_row", sql`${t.singleton}`)],
);

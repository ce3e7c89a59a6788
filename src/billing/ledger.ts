import { and, desc, eq, getTableName, type SQL, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { accountBalances, ledgerEntries } from "../../db/schema";
import { type AuditActor, recordAudit, systemActor } from "../audit/record";
import { withTransaction } from "../context";
import { InvalidInputError } from "../errors";
import { newId } from "../ids";
import { decodeCursor, encodeCursor, olderThan, positionOf } from "../pagination";

export type LedgerKind = (typeof ledgerEntries.kind.enumValues)[number];
export type LedgerEntry = typeof ledgerEntries.$inferSelect;

export interface NewLedgerEntry {
  accountId: string;
  kind: LedgerKind;
  /** Signed cents: positive for top-ups and refunds, negative for debits. */
  amountCents: number;
  /** Unique per account: posting it again returns the first entry and changes nothing. */
  reference: string;
  instanceId?: string | null;
  description?: string | null;
  /** Who the audit row of an audited kind names (an operator's adjustment); the platform when omitted. */
  actor?: AuditActor;
  requestId?: string;
}

export interface Posted {
  entry: LedgerEntry;
  /** False when the reference was already posted: nothing changed. */
  created: boolean;
  balanceCents: number;
}

/**
 * The one way money moves. Appends the entry and changes the stored balance
 * in one transaction (the caller's, when there is one), and starts or ends
 * the account's grace state as the balance crosses zero. Idempotent by
 * reference through the unique index, so concurrent duplicates cannot both land.
 */
export async function postEntry(db: Executor, input: NewLedgerEntry): Promise<Posted> {
  if (!Number.isSafeInteger(input.amountCents) || input.amountCents === 0) {
    throw new InvalidInputError("An amount must be a non-zero whole number of cents.", "amountCents");
  }
  return withTransaction(db, async (tx) => {
    const [inserted] = await tx
      .insert(ledgerEntries)
      .values({
        id: newId("ledgerEntry"),
        accountId: input.accountId,
        kind: input.kind,
        amountCents: input.amountCents,
        reference: input.reference,
        instanceId: input.instanceId ?? null,
        description: input.description ?? null,
      })
      .onConflictDoNothing({ target: [ledgerEntries.accountId, ledgerEntries.reference] })
      .returning();

    if (!inserted) {
      const [first] = await tx
        .select()
        .from(ledgerEntries)
        .where(and(eq(ledgerEntries.accountId, input.accountId), eq(ledgerEntries.reference, input.reference)));
      return { entry: first!, created: false, balanceCents: await balanceOf(tx, input.accountId) };
    }

    // Grace starts when the balance goes below zero and ends when it is back at zero or above.
    const [balance] = await tx
      .insert(accountBalances)
      .values({
        accountId: input.accountId,
        balanceCents: input.amountCents,
        graceStartedAt: input.amountCents < 0 ? sql`now()` : null,
      })
      .onConflictDoUpdate({
        target: accountBalances.accountId,
        set: {
          balanceCents: sql`${accountBalances.balanceCents} + excluded.balance_cents`,
          graceStartedAt: sql`case
            when ${accountBalances.balanceCents} + excluded.balance_cents >= 0 then null
            else coalesce(${accountBalances.graceStartedAt}, now()) end`,
          updatedAt: sql`now()`,
        },
      })
      .returning({ balanceCents: accountBalances.balanceCents });
    // Money people put in or an operator moves is in the audit trail; debits and refunds are metering's, in the ledger.
    const audited = AUDITED_KINDS[inserted.kind];
    if (audited) {
      const after = {
        amountCents: inserted.amountCents,
        balanceCents: balance!.balanceCents,
        reference: inserted.reference,
        description: inserted.description,
      };
      const scope = { db: tx, accountId: input.accountId, actor: input.actor ?? systemActor, requestId: input.requestId };
      await recordAudit(scope, { kind: audited, subjectId: inserted.id, changes: { after } });
    }
    return { entry: inserted, created: true, balanceCents: balance!.balanceCents };
  });
}

const AUDITED_KINDS: Partial<Record<LedgerKind, "billing.topup_credited" | "billing.adjustment_posted">> = {
  topup: "billing.topup_credited",
  adjustment: "billing.adjustment_posted",
};

export async function balanceOf(db: Executor, accountId: string): Promise<number> {
  const [row] = await db.select({ balanceCents: accountBalances.balanceCents }).from(accountBalances).where(eq(accountBalances.accountId, accountId));
  return row?.balanceCents ?? 0;
}

export interface LedgerPage {
  entries: LedgerEntry[];
  /** Pass back to get the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export interface LedgerQuery {
  limit: number;
  cursor?: string | null;
  kind?: LedgerKind;
  instanceId?: string;
}

/**
 * Entries newest first, in keyset pages on (created_at, id) that never skip or repeat rows. The position is
 * compared as a row, `(created_at, id) < (…)`, which the index (account_id, created_at, id) takes as where to
 * start reading backwards: a page deep in a heavy account's millions of entries reads as few rows as the first.
 */
export async function listLedger(db: Executor, accountId: string, query: LedgerQuery): Promise<LedgerPage> {
  const after = query.cursor ? decodeCursor(query.cursor, "the ledger") : null;
  // The page as a CTE named after the table, which the outer select then reads instead of it: the positions are
  // formatted for the page's rows alone. In the page's own select list, a plan that sorts its candidates (a bitmap
  // scan, as an instance filter can get) would format every candidate first.
  const page = db.$with(getTableName(ledgerEntries)).as(
    db
      .select()
      .from(ledgerEntries)
      .where(
        and(
          eq(ledgerEntries.accountId, accountId),
          query.kind ? kindIs(query.kind) : undefined,
          query.instanceId ? eq(ledgerEntries.instanceId, query.instanceId) : undefined,
          after ? olderThan(ledgerEntries.createdAt, ledgerEntries.id, after) : undefined,
        ),
      )
      .orderBy(desc(ledgerEntries.createdAt), desc(ledgerEntries.id))
      .limit(query.limit + 1),
  );
  const rows = await db
    .with(page)
    .select({ entry: ledgerEntries, position: positionSql })
    .from(ledgerEntries)
    .orderBy(desc(ledgerEntries.createdAt), desc(ledgerEntries.id));
  const last = rows.length > query.limit ? rows[query.limit - 1] : undefined;
  return { entries: rows.slice(0, query.limit).map((row) => row.entry), nextCursor: last ? ledgerCursor(last.position, last.entry.id) : null };
}

/**
 * The kind filter. Any kind but debits also states `kind <> 'debit'` as a literal: that is the predicate of the
 * partial index of the rare kinds, and a parameter alone would hide it from a prepared statement's generic plan
 * (a heavy account's few top-ups would then be looked for among its millions of debits).
 */
function kindIs(kind: LedgerKind): SQL {
  return kind === "debit" ? eq(ledgerEntries.kind, kind) : sql`${ledgerEntries.kind} = ${kind} and ${ledgerEntries.kind} <> 'debit'`;
}

const positionSql = positionOf(ledgerEntries.createdAt);

/** The cursor after the entry at `createdAt` (ISO 8601 in UTC, up to microseconds) with id `id`. */
export const ledgerCursor = encodeCursor;

export interface BalanceDrift {
  accountId: string;
  storedCents: number;
  sumCents: number;
}

/** Accounts whose stored balance differs from the sum of their entries: always empty, or there is a bug. */
export async function findBalanceDrift(db: Executor): Promise<BalanceDrift[]> {
  const rows = await db.execute<{ account_id: string; stored: string; sum: string }>(sql`
    select coalesce(b.account_id, e.account_id) as account_id,
           coalesce(b.balance_cents, 0) as stored, coalesce(e.total, 0) as sum
    from ${accountBalances} b
    full join (select account_id, sum(amount_cents) as total from ${ledgerEntries} group by account_id) e
      on e.account_id = b.account_id
    where coalesce(b.balance_cents, 0) <> coalesce(e.total, 0)`);
  return rows.map((row) => ({ accountId: row.account_id, storedCents: Number(row.stored), sumCents: Number(row.sum) }));
}

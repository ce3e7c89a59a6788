import { and, desc, eq, lt, or, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { accountBalances, ledgerEntries } from "../../db/schema";
import { withTransaction } from "../context";
import { InvalidInputError } from "../errors";
import { newId } from "../ids";

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
    return { entry: inserted, created: true, balanceCents: balance!.balanceCents };
  });
}

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

/** Entries newest first, with keyset pagination on (created_at, id) so pages never skip or repeat rows. */
export async function listLedger(db: Executor, accountId: string, query: LedgerQuery): Promise<LedgerPage> {
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  const rows = await db
    .select()
    .from(ledgerEntries)
    .where(
      and(
        eq(ledgerEntries.accountId, accountId),
        query.kind ? eq(ledgerEntries.kind, query.kind) : undefined,
        query.instanceId ? eq(ledgerEntries.instanceId, query.instanceId) : undefined,
        after ? or(lt(ledgerEntries.createdAt, after.createdAt), and(eq(ledgerEntries.createdAt, after.createdAt), lt(ledgerEntries.id, after.id))) : undefined,
      ),
    )
    .orderBy(desc(ledgerEntries.createdAt), desc(ledgerEntries.id))
    .limit(query.limit + 1);
  const entries = rows.slice(0, query.limit);
  const last = entries.at(-1);
  return { entries, nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
}

function encodeCursor(entry: LedgerEntry): string {
  return Buffer.from(JSON.stringify([entry.createdAt.toISOString(), entry.id])).toString("base64url");
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, "base64url").toString());
    const date = new Date(createdAt);
    if (typeof id !== "string" || Number.isNaN(date.getTime())) throw new Error();
    return { createdAt: date, id };
  } catch {
    throw new InvalidInputError("This cursor is not one the ledger gave out.", "cursor");
  }
}

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

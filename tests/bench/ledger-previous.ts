/**
 * The statements `listLedger` and `meteredInstance` sent before `bench:ledger` (commit 2a9986b), kept here
 * to measure the changes beside them in the same run and to check that the metered view's sums did not move.
 */
import { and, desc, eq, lt, or, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { instanceRuns, ledgerEntries } from "../../db/schema";
import type { LedgerKind } from "../../src/billing/ledger";

/** The previous cursor's position: a JavaScript Date, so milliseconds. */
export interface Previous {
  createdAt: Date;
  id: string;
}

/** The previous page: `created_at < … or (created_at = … and id < …)`, which no index takes as a start. */
export async function previousPage(
  db: Executor,
  accountId: string,
  query: { limit: number; kind?: LedgerKind; instanceId?: string; after?: Previous },
): Promise<{ entries: { id: string; createdAt: Date }[]; more: boolean }> {
  const { after } = query;
  const rows = await db
    .select({ id: ledgerEntries.id, createdAt: ledgerEntries.createdAt })
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
  return { entries: rows.slice(0, query.limit), more: rows.length > query.limit };
}

/** The previous metered statement: every run joined to the instance's entries by reference, so each run reads all of them. */
export async function previousMetered(db: Executor, accountId: string, instanceId: string) {
  const debit = sql`${ledgerEntries.kind} = 'debit' and starts_with(${ledgerEntries.reference}, 'debit:' || ${instanceRuns.id} || ':')`;
  const refund = sql`${ledgerEntries.kind} = 'refund' and ${ledgerEntries.reference} = 'refund:' || ${instanceRuns.id}`;
  return db
    .select({
      id: instanceRuns.id,
      debited: sql<number>`coalesce(-sum(${ledgerEntries.amountCents}) filter (where ${ledgerEntries.kind} = 'debit'), 0)`.mapWith(Number),
      refunded: sql<number>`coalesce(sum(${ledgerEntries.amountCents}) filter (where ${ledgerEntries.kind} = 'refund'), 0)`.mapWith(Number),
    })
    .from(instanceRuns)
    .leftJoin(
      ledgerEntries,
      and(eq(ledgerEntries.accountId, accountId), eq(ledgerEntries.instanceId, instanceRuns.instanceId), sql`((${debit}) or (${refund}))`),
    )
    .where(eq(instanceRuns.instanceId, instanceId))
    .groupBy(instanceRuns.id)
    .orderBy(desc(instanceRuns.number));
}

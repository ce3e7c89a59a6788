/** Accounts and runs for metering tests, as bare rows: metering needs no user, pod or provider. */
import { eq, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { accounts, instanceRuns, ledgerEntries } from "../../db/schema";
import { postEntry } from "../../src/billing/ledger";
import { newId } from "../../src/ids";
import { insertInstanceRow } from "./factories";

/** An account with `balance` cents topped up. */
export async function meteredAccount(db: Database, balance = 100_000): Promise<string> {
  const accountId = newId("account");
  await db.insert(accounts).values({ id: accountId, name: "metering" });
  if (balance > 0) await postEntry(db, { accountId, kind: "topup", amountCents: balance, reference: `cs_${accountId}` });
  return accountId;
}

/** An instance with one run at `rate` c/h, running `ranSeconds` ago (never running when null), its last heartbeat now. */
export async function meteredRun(db: Database, accountId: string, rate: number, ranSeconds: number | null): Promise<{ instanceId: string; runId: string }> {
  const instanceId = newId("instance");
  const runId = newId("run");
  await insertInstanceRow(db, {
    id: instanceId,
    accountId,
    state: ranSeconds === null ? "pending" : "running",
    rateCentsPerHour: rate,
    currentRunId: runId,
  });
  await db.insert(instanceRuns).values({
    id: runId,
    instanceId,
    number: 1,
    rateCentsPerHour: rate,
    runningAt: ranSeconds === null ? null : sql`now() - make_interval(secs => ${ranSeconds})`,
    lastHeartbeatAt: ranSeconds === null ? null : sql`now()`,
  });
  return { instanceId, runId };
}

/** Everything the ledger debited for a run, in cents (positive). */
export async function debitedFor(db: Database, runId: string): Promise<number> {
  const [row] = await db.execute<{ total: string }>(
    sql`select coalesce(-sum(amount_cents), 0)::text as total from ledger_entries where kind = 'debit' and reference like ${`debit:${runId}:%`}`,
  );
  return Number(row!.total);
}

/** The refund entries of a run (at most one, if metering is right). */
export function refundsOf(db: Database, runId: string) {
  return db
    .select()
    .from(ledgerEntries)
    .where(eq(ledgerEntries.reference, `refund:${runId}`));
}

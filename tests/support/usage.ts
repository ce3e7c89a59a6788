/** A billed history for usage tests: runs and their ledger entries at chosen past times, rolled up as the migration does. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import type { Database, DatabaseHandle } from "../../db/client";
import { instanceRuns, ledgerEntries } from "../../db/schema";
import { projectRoot } from "../../src/config";
import { newId } from "../../src/ids";
import { chargeCents } from "../../src/metering/billable";

/** One metering debit: the run's billed total reached `seconds` at `at`. */
export interface PastTick {
  at: string;
  seconds: number;
}

/**
 * A settled run of `instanceId` at `rate` c/h whose ticks billed it as `ticks` say: one `debit:<run>:<seconds>`
 * entry per tick with a new cent, dated `at`, exactly as the tick would have written it then. The run ends
 * at `runningAt + endSeconds` (billed to there), refunded in full at `refundAt` when given.
 */
export async function pastRun(
  db: Database,
  run: { accountId: string; instanceId: string; rate: number; runningAt: string; ticks: PastTick[]; endSeconds?: number; refundAt?: string },
): Promise<string> {
  const runId = newId("run");
  const [numbered] = await db.execute<{ n: number }>(sql`select count(*)::integer + 1 as n from instance_runs where instance_id = ${run.instanceId}`);
  const billedSeconds = run.endSeconds ?? run.ticks.at(-1)?.seconds ?? 0;
  const end = new Date(new Date(run.runningAt).getTime() + billedSeconds * 1000);
  await db.insert(instanceRuns).values({
    id: runId,
    instanceId: run.instanceId,
    number: numbered!.n,
    rateCentsPerHour: run.rate,
    runningAt: new Date(run.runningAt),
    lastHeartbeatAt: end,
    endedAt: end,
    endedBecause: run.refundAt ? "failed" : "stopped",
    billedSeconds,
    billedCents: chargeCents(billedSeconds, run.rate),
    settledAt: end,
  });
  let billed = 0;
  for (const tick of run.ticks) {
    const cents = chargeCents(tick.seconds, run.rate);
    if (cents > billed) await entry(db, run, "debit", billed - cents, `debit:${runId}:${tick.seconds}`, tick.at);
    billed = cents;
  }
  if (run.refundAt) await entry(db, run, "refund", billed, `refund:${runId}`, run.refundAt);
  return runId;
}

function entry(db: Database, run: { accountId: string; instanceId: string }, kind: "debit" | "refund", amountCents: number, reference: string, at: string) {
  return db.insert(ledgerEntries).values({
    id: newId("ledgerEntry"),
    accountId: run.accountId,
    kind,
    amountCents,
    reference,
    instanceId: run.instanceId,
    createdAt: new Date(at),
  });
}

/** The backfill statement of the rollups' migration, as shipped. */
export function usageBackfillSql(): string {
  const file = readdirSync(join(projectRoot, "db/migrations")).find((name) => name.endsWith("_usage_rollups.sql"))!;
  const statements = readFileSync(join(projectRoot, "db/migrations", file), "utf8").split("--> statement-breakpoint");
  return statements.find((statement) => statement.includes('INSERT INTO "account_usage_hourly"'))!;
}

/**
 * Empties the rollups and fills them again from the ledger with the migration's backfill, keeping of the daily
 * rollup only the days the fold's mark says it holds (as a database migrated since then has them).
 */
export async function rebuildUsageRollups(owner: DatabaseHandle): Promise<void> {
  await owner.sql.begin(async (tx) => {
    await tx.unsafe("delete from instance_usage_hourly; delete from instance_usage_daily; delete from account_usage_hourly");
    await tx.unsafe(usageBackfillSql());
    await tx.unsafe("delete from instance_usage_daily where day >= (select folded_through from usage_daily_fold)");
  });
}

/** Moves the fold's mark back to `day` and forgets the daily rows from it on: those days are unfolded again. */
export async function unfoldUsageFrom(owner: DatabaseHandle, day: string): Promise<void> {
  await owner.sql.begin(async (tx) => {
    await tx`update usage_daily_fold set folded_through = ${day}::timestamptz`;
    await tx`delete from instance_usage_daily where day >= ${day}::timestamptz`;
  });
}

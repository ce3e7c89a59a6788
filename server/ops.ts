/**
 * Operator commands against DATABASE_URL, until the api has an operator role:
 *   bun server/ops.ts payment-reviews [--json] [--all] [--limit <n>]
 *   bun server/ops.ts payment-reviews resolve <id>
 *   bun server/ops.ts reclaim <instance-id>
 */
import { Command, InvalidArgumentError } from "commander";
import { and, eq } from "drizzle-orm";
import { connect } from "../db/client";
import { instanceRuns, instances } from "../db/schema";
import { listPaymentReviews, resolvePaymentReview } from "../src/billing/payment-reviews";
import { config } from "../src/config";
import { ConflictError, DomainError } from "../src/errors";
import { LocalProvider } from "../src/providers/local/local-provider";
import { buildProviders, findProvider } from "../src/providers/registry";

const settings = config();
const url = settings.DATABASE_URL;
if (!url) {
  console.error("Set DATABASE_URL to the database to inspect.");
  process.exit(1);
}
const database = connect(url, { max: 1 });

const positiveInt = (value: string) => {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1) throw new InvalidArgumentError("expected a positive whole number");
  return number;
};

const program = new Command("ops").description("Operator commands of QDivZero Compute.");
const reviews = program
  .command("payment-reviews")
  .description("signed webhook events that were not credited (malformed, or disagreeing with the stored checkout): open ones, newest first")
  .option("--json", "print JSON")
  .option("--all", "include resolved reviews")
  .option("--limit <n>", "at most this many", positiveInt, 100)
  .action(async (options: { json?: boolean; all?: boolean; limit: number }) => {
    const rows = await listPaymentReviews(database.db, { includeResolved: options.all, limit: options.limit });
    if (options.json) return console.log(JSON.stringify(rows, null, 2));
    if (rows.length === 0) return console.log(options.all ? "No payment reviews." : "No open payment reviews.");
    for (const row of rows) {
      const state = row.resolvedAt ? `resolved ${row.resolvedAt.toISOString()}` : "open";
      console.log(`#${row.id}  ${row.receivedAt.toISOString()}  ${row.reason}  ${state}`);
      console.log(`    event ${row.eventId ?? "-"} (${row.eventType ?? "-"})  checkout ${row.checkoutId ?? "-"}  account ${row.accountId ?? "-"}`);
      console.log(`    ${row.summary}`);
    }
  });
reviews
  .command("resolve <id>")
  .description("mark a review as dealt with (any correction goes through the ledger)")
  .action(async (id: string) => {
    const review = await resolvePaymentReview(database.db, positiveInt(id));
    console.log(`Payment review #${review.id} resolved at ${review.resolvedAt!.toISOString()}.`);
  });

program
  .command("reclaim <instance-id>")
  .description(
    "take a running community instance's pod back on the local provider, as a cloud reclaims spot capacity (the reconciler then re-places or stops it)",
  )
  .action(async (instanceId: string) => {
    const [run] = await database.db
      .select({ podId: instanceRuns.podId, providerId: instanceRuns.providerId })
      .from(instances)
      .innerJoin(instanceRuns, eq(instanceRuns.id, instances.currentRunId))
      .where(and(eq(instances.id, instanceId), eq(instances.state, "running")));
    if (!run?.podId) throw new ConflictError(`Instance ${instanceId} is not running (or does not exist).`);
    const local = findProvider(await buildProviders(database.db, settings), run.providerId);
    if (!(local instanceof LocalProvider))
      throw new ConflictError(`Instance ${instanceId} runs on ${run.providerId}: only the local provider reclaims on demand.`);
    const { reclaimedAt } = await local.reclaim(run.podId).catch((error: Error) => Promise.reject(new ConflictError(error.message)));
    console.log(`Pod ${run.podId} of instance ${instanceId} reclaimed at ${reclaimedAt.toISOString()}.`);
  });

let exitCode = 0;
try {
  await program.parseAsync();
} catch (error) {
  // Domain errors (unknown id, already resolved) are the operator's to read; anything else is a bug and keeps its stack.
  console.error(error instanceof DomainError ? error.message : error);
  exitCode = 1;
} finally {
  await database.close();
}
process.exit(exitCode);

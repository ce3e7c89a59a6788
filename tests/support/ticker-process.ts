/**
 * A billing ticker in its own process, for tests that run several at once and kill them with -9.
 *
 * Usage: bun tests/support/ticker-process.ts <database url> loop|hold
 * - `loop`: the real billing tick (batches of 25) over and over, printing `tick <runs billed>` after each.
 * - `hold`: bills one batch of 100 in a transaction, prints `uncommitted <runs claimed>` and never commits:
 *   the moment between a tick's writes and its commit, held for a test to kill it in.
 */
import { connect } from "../../db/client";
import { withTransaction } from "../../src/context";
import { billRuns } from "../../src/metering/bill";
import { billingTick } from "../../src/metering/tick";

const [url, mode] = process.argv.slice(2) as [string, "loop" | "hold"];
const { db } = connect(url, { max: 2 });

if (mode === "hold") {
  await withTransaction(db, async (tx) => {
    const batch = await billRuns(tx, { live: true, afterId: "", limit: 100 });
    console.log(`uncommitted ${batch.claimed}`);
    await new Promise(() => {}); // until killed
  });
} else {
  for (;;) {
    const report = await billingTick(db, { batchSize: 25 });
    console.log(`tick ${report.runsBilled}`);
  }
}

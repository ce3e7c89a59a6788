import { sql } from "drizzle-orm";
import type { Executor } from "../../db/client";

/** Now by the database's clock: the one the tick dates its ledger entries and rollups by. */
export async function databaseNow(db: Executor): Promise<Date> {
  const [row] = await db.execute<{ ms: number }>(sql`select floor(extract(epoch from now()) * 1000)::float8 as ms`);
  return new Date(row!.ms);
}

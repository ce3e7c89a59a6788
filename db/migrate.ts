import { readFileSync } from "node:fs";
import { join } from "node:path";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import type { Database } from "./client";

export const migrationsFolder = join(import.meta.dir, "migrations");

export async function applyMigrations(db: Database): Promise<void> {
  await migrate(db, { migrationsFolder });
}

/** How many migrations the code ships; /readyz compares it with what the database has applied. */
export function shippedMigrationCount(): number {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, "meta", "_journal.json"), "utf8"));
  return journal.entries.length;
}

/** `bun run migrate`: prepares DATABASE_URL (migrations, then the catalog), for deployments that migrate before rolling out. */
if (import.meta.main) {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("Set DATABASE_URL to the database to migrate.");
  const { connect } = await import("./client");
  const { prepareDatabase } = await import("../src/platform/prepare-database");
  const database = connect(url, { max: 1 });
  await prepareDatabase(database.db);
  await database.close();
  console.log("migrations applied and catalog synced");
}

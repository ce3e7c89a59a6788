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

import { sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { JOB_SCHEMA } from "./job-schema";

/** Tables whose rows are never changed or removed (each has its trigger too). */
export const APPEND_ONLY_TABLES = ["ledger_entries", "audit_events"] as const;

/**
 * What the app role (api, workers) may do, granted by the owner after every
 * migration run; idempotent. Rows of every table, except the ledger and the
 * audit trail, which it may only read and append to: with no ownership and no
 * superuser, it can neither drop their append-only triggers nor skip them.
 * Default privileges cover tables that later migrations add; the append-only
 * tables' grants are re-asserted here each time, whatever a migration granted.
 */
export async function grantAppPrivileges(db: Database, appRole: string): Promise<void> {
  const app = sql.identifier(appRole);
  const jobSchema = sql.identifier(JOB_SCHEMA);
  await db.transaction(async (tx) => {
    await tx.execute(sql`grant usage on schema public to ${app}`);
    await tx.execute(sql`grant select, insert, update, delete on all tables in schema public to ${app}`);
    await tx.execute(sql`grant usage, select on all sequences in schema public to ${app}`);
    await tx.execute(sql`grant execute on all functions in schema public to ${app}`);
    await tx.execute(sql`alter default privileges in schema public grant select, insert, update, delete on tables to ${app}`);
    await tx.execute(sql`alter default privileges in schema public grant usage, select on sequences to ${app}`);
    await tx.execute(sql`alter default privileges in schema public grant execute on functions to ${app}`);
    // A table-level REVOKE also takes back column grants.
    for (const table of APPEND_ONLY_TABLES) {
      await tx.execute(sql`revoke all on table ${sql.identifier(table)} from ${app}`);
      await tx.execute(sql`grant select, insert on table ${sql.identifier(table)} to ${app}`);
    }
    // /readyz compares the applied migrations with the shipped ones.
    await tx.execute(sql`grant usage on schema drizzle to ${app}`);
    await tx.execute(sql`grant select on table drizzle.__drizzle_migrations to ${app}`);
    // pg-boss's tables are the app's own (job-schema.ts); the schema is the owner's. Not CREATE SCHEMA IF
    // NOT EXISTS: that needs CREATE on the database even when the schema exists.
    const [existing] = await tx.execute<{ found: boolean }>(sql`select exists (select from pg_namespace where nspname = ${JOB_SCHEMA}) as found`);
    if (!existing?.found) await tx.execute(sql`create schema ${jobSchema}`);
    await tx.execute(sql`grant usage, create on schema ${jobSchema} to ${app}`);
  });
}

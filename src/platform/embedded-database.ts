import type postgres from "postgres";
import type { DatabaseAccess } from "./database-access";
import { quoteIdentifier as q, type RoleAccess } from "./database-roles";
import { JOB_SCHEMA } from "./job-schema";

/** What ensureDatabase needs of a running cluster (RunningPostgres has it). */
export interface ClusterRoles {
  /** The superuser's URL without a database name. */
  baseUrl: string;
  owner: RoleAccess;
  app: RoleAccess;
}

/**
 * Creates database `name` owned by the owner role unless it exists, and
 * hands over one made before the roles existed (its objects owned by the
 * superuser). Returns how the owner and the app reach it.
 */
export async function ensureDatabase(cluster: ClusterRoles, name: string): Promise<DatabaseAccess> {
  const { default: postgres } = await import("postgres");
  const admin = postgres(`${cluster.baseUrl}/postgres`, { max: 1, onnotice: () => {} });
  try {
    const [database] = await admin<{ owner: string }[]>`select pg_get_userbyid(datdba) as owner from pg_database where datname = ${name}`;
    // PostgreSQL has no CREATE DATABASE IF NOT EXISTS.
    if (!database) await admin.unsafe(`create database ${q(name)} owner ${q(cluster.owner.name)}`);
    else if (database.owner !== cluster.owner.name) await handOver(`${cluster.baseUrl}/${encodeURIComponent(name)}`, name, cluster);
  } finally {
    await admin.end();
  }
  const path = `/${encodeURIComponent(name)}`;
  return { ownerUrl: cluster.owner.baseUrl + path, appUrl: cluster.app.baseUrl + path, appRole: cluster.app.name };
}

/**
 * In one transaction, as the superuser: the schema's objects to the owner,
 * pg-boss's to the app (it creates a table per queue under its own tables),
 * then the database itself, which marks the hand-over done.
 */
async function handOver(superuserUrl: string, name: string, cluster: ClusterRoles): Promise<void> {
  const { default: postgres } = await import("postgres");
  const sql = postgres(superuserUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.begin(async (tx) => {
      for (const schema of ["public", "drizzle"]) await giveObjects(tx, schema, cluster.owner.name);
      await giveObjects(tx, JOB_SCHEMA, cluster.app.name);
      for (const schema of ["drizzle", JOB_SCHEMA]) {
        const [found] = await tx`select 1 from pg_namespace where nspname = ${schema}`;
        if (found) await tx.unsafe(`alter schema ${q(schema)} owner to ${q(cluster.owner.name)}`);
      }
      await tx.unsafe(`alter database ${q(name)} owner to ${q(cluster.owner.name)}`);
    });
  } finally {
    await sql.end();
  }
}

/** Everything in `schema` not yet `role`'s becomes `role`'s. Indexes, owned sequences and row types follow their tables. */
async function giveObjects(tx: postgres.TransactionSql, schema: string, role: string): Promise<void> {
  const to = q(role);
  const objects = async (query: Promise<{ name: string }[]>) => (await query).map((row) => row.name);
  const tables = await objects(tx`
    select c.oid::regclass::text as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and c.relkind in ('r', 'p', 'v') and pg_get_userbyid(c.relowner) <> ${role}`);
  for (const name of tables) await tx.unsafe(`alter table ${name} owner to ${to}`);
  // After the tables: a sequence a table owns has moved with it, and cannot be moved alone.
  const sequences = await objects(tx`
    select c.oid::regclass::text as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and c.relkind = 'S' and pg_get_userbyid(c.relowner) <> ${role}`);
  for (const name of sequences) await tx.unsafe(`alter sequence ${name} owner to ${to}`);
  const routines = await objects(tx`
    select p.oid::regprocedure::text as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = ${schema} and p.prokind in ('f', 'p') and pg_get_userbyid(p.proowner) <> ${role}`);
  for (const name of routines) await tx.unsafe(`alter routine ${name} owner to ${to}`);
  const types = await tx<{ name: string; domain: boolean }[]>`
    select t.oid::regtype::text as name, t.typtype = 'd' as domain from pg_type t join pg_namespace n on n.oid = t.typnamespace
    where n.nspname = ${schema} and pg_get_userbyid(t.typowner) <> ${role}
      and (t.typtype in ('e', 'r', 'd') or (t.typtype = 'c' and (select relkind from pg_class where oid = t.typrelid) = 'c'))`;
  for (const type of types) await tx.unsafe(`alter ${type.domain ? "domain" : "type"} ${type.name} owner to ${to}`);
}

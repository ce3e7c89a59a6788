import type postgres from "postgres";

/**
 * The two PostgreSQL roles the platform runs as. The owner owns the schema
 * and runs migrations; the app (api, workers) may read and write rows but
 * never own a table, so it can neither alter the ledger's append-only
 * trigger nor skip it (`session_replication_role` needs a superuser).
 */
export const OWNER_ROLE = "qdz_owner";
export const APP_ROLE = "qdz_app";

export interface LoginRole {
  name: string;
  password: string;
}

/** A role with its URL without a database name (append `/<db>`), as RunningPostgres gives them. */
export interface RoleAccess {
  name: string;
  baseUrl: string;
}

/** Attributes neither role may have: each would let it around the ledger or the grants. */
const UNPRIVILEGED = ["rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication", "rolbypassrls"] as const;

/**
 * Creates `role` as an unprivileged login role, or brings an existing one
 * back to that and to `password` (the password file is the truth). Needs a
 * superuser, or CREATEROLE with ADMIN on an existing role.
 */
export async function ensureLoginRole(sql: postgres.Sql, role: LoginRole): Promise<void> {
  const name = quoteIdentifier(role.name);
  const password = quoteLiteral(role.password);
  const [existing] = await sql<Record<(typeof UNPRIVILEGED)[number], boolean>[]>`
    select rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls from pg_roles where rolname = ${role.name}`;
  if (!existing) {
    await sql.unsafe(`create role ${name} with login nosuperuser nocreaterole nocreatedb noreplication nobypassrls password ${password}`);
    return;
  }
  await sql.unsafe(`alter role ${name} with login password ${password}`);
  // Naming an attribute at all takes a superuser, so only when one is wrong.
  if (UNPRIVILEGED.some((attribute) => existing[attribute])) {
    await sql.unsafe(`alter role ${name} with nosuperuser nocreaterole nocreatedb noreplication nobypassrls`);
  }
}

/** `baseUrl` (any user) with `role`'s credentials instead. */
export function withCredentials(baseUrl: string, role: LoginRole): string {
  const url = new URL(baseUrl);
  url.username = encodeURIComponent(role.name);
  url.password = encodeURIComponent(role.password);
  return url.toString().replace(/\/$/, "");
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** For utility statements (CREATE ROLE …), which take no bind parameters. */
function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

import type postgres from "postgres";
import { log } from "./log";

/**
 * Why the role this process connects as could get around the append-only
 * ledger: a superuser can disable triggers or set session_replication_role,
 * the ledger's owner (or a member of its role) can alter the table. Empty
 * when it cannot.
 */
export async function privilegeProblems(sql: postgres.Sql): Promise<string[]> {
  const [role] = await sql<{ name: string; superuser: boolean; owner: string | null; ownsLedger: boolean }[]>`
    select current_user as name, r.rolsuper as superuser, pg_get_userbyid(c.relowner) as owner,
      coalesce(pg_has_role(current_user, c.relowner, 'MEMBER'), false) as "ownsLedger"
    from pg_roles r left join pg_class c on c.oid = to_regclass('public.ledger_entries')
    where r.rolname = current_user`;
  if (!role) return [];
  if (role.superuser) return [`${role.name} is a PostgreSQL superuser`];
  if (role.ownsLedger)
    return [role.owner === role.name ? `${role.name} owns ledger_entries` : `${role.name} is a member of ${role.owner}, which owns ledger_entries`];
  return [];
}

/**
 * At start: says so, loudly, when this process could change the ledger.
 * Not a refusal: a developer's own PostgreSQL may have a single user.
 */
export async function warnIfPrivileged(sql: postgres.Sql, processName: string): Promise<void> {
  const problems = await privilegeProblems(sql);
  if (problems.length === 0) return;
  log.warn(
    { problems },
    `[${processName}] WARNING: ${problems.join("; ")}, so this process could change or erase ledger entries. ` +
      "Connect it as a role without superuser or ownership: DATABASE_URL for the app, DATABASE_OWNER_URL for migrations (see the README).",
  );
}

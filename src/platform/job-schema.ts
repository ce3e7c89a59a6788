import { getConstructionPlans } from "pg-boss";

/** pg-boss's schema: src/jobs/queue.ts leaves pg-boss on its default, which is this. */
export const JOB_SCHEMA = "pgboss";

/**
 * Installs pg-boss's tables as the app role, in the schema the owner made
 * for it. The app must own them: pg-boss adds a table per queue under its
 * job table at run time. Left to itself, pg-boss would install on its first
 * start, but its install opens with CREATE SCHEMA IF NOT EXISTS, which
 * PostgreSQL refuses without CREATE on the database even when the schema
 * exists; once installed, pg-boss only migrates its own tables.
 */
export async function installJobSchema(appUrl: string): Promise<void> {
  const { default: postgres } = await import("postgres");
  const sql = postgres(appUrl, { max: 1, onnotice: () => {} });
  try {
    const [found] = await sql<{ owner: string | null; app: string }[]>`
      select (select pg_get_userbyid(relowner) from pg_class where oid = to_regclass(${`${JOB_SCHEMA}.version`})) as owner, current_user as app`;
    const { owner, app } = found!;
    if (owner === null) await sql.unsafe(getConstructionPlans(JOB_SCHEMA, { createSchema: false }));
    else if (owner !== app) {
      throw new Error(
        `pg-boss's tables in the schema ${JOB_SCHEMA} belong to ${owner}, not to ${app}, the role the api and workers connect as, ` +
          `so they could not create a queue. As a superuser, make ${app} the owner of every table, sequence, type and function in ${JOB_SCHEMA}, ` +
          `or drop the schema ${JOB_SCHEMA} (jobs waiting in it are lost) and start again.`,
      );
    }
  } finally {
    await sql.end();
  }
}

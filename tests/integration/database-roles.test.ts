/**
 * The api and workers connect as an app role that owns nothing and is no
 * superuser, so the append-only ledger cannot be changed, emptied or have
 * its trigger skipped from their connections; the owner migrates and grants.
 */
import { describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import postgres from "postgres";
import { connect } from "../../db/client";
import { ledgerEntries } from "../../db/schema";
import { revokeApiKey } from "../../src/api-keys/keys";
import { postEntry } from "../../src/billing/ledger";
import { createQueue } from "../../src/jobs/queue";
import { grantAppPrivileges } from "../../src/platform/app-privileges";
import { CACHE_CHANNEL } from "../../src/platform/cache-bus";
import { ensureDatabase } from "../../src/platform/embedded-database";
import { prepareDatabase } from "../../src/platform/prepare-database";
import { privilegeProblems } from "../../src/platform/role-check";
import { testRoles } from "../support/cluster";
import { freshDatabase } from "../support/db";
import { contextOf, newApiKey, newUser } from "../support/factories";

const roles = testRoles();
/** Handing over an old database takes the superuser, which only the embedded cluster gives us. */
const superuserAvailable = !process.env.DATABASE_URL;
const database = await freshDatabase();
const { db } = database;
const owner = () => database.owner();

/** PostgreSQL's SQLSTATE for "permission denied" and "must be owner". */
const INSUFFICIENT_PRIVILEGE = "42501";

async function refusal(query: PromiseLike<unknown>): Promise<{ code: string; message: string }> {
  try {
    await query;
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause ?? error; // drizzle wraps PostgreSQL's error
    return { code: (cause as { code?: string }).code ?? "", message: (cause as Error).message };
  }
  throw new Error("expected PostgreSQL to refuse, but it accepted");
}

describe.skipIf(roles.unavailable !== null)(roles.unavailable ? `database roles (skipped: ${roles.unavailable})` : "database roles", () => {
  test("the app role is not a superuser, may not make roles or databases, and owns nothing it serves from", async () => {
    const [role] = await database.sql`
      select current_user as name, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls from pg_roles where rolname = current_user`;
    expect(role).toEqual({ name: roles.app.name, rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false, rolbypassrls: false });
    expect(await privilegeProblems(database.sql)).toEqual([]);
    const owned =
      await database.sql`select relname from pg_class where relowner = (select oid from pg_roles where rolname = current_user) and relnamespace = 'public'::regnamespace`;
    expect([...owned]).toEqual([]);
  });

  test("the start-up check names the ledger's owner and a superuser", async () => {
    const problems = await privilegeProblems(owner().sql);
    if (superuserAvailable) expect(problems).toEqual([`${roles.owner.name} owns ledger_entries`]);
    else expect(problems[0]).toMatch(/owns ledger_entries|is a PostgreSQL superuser/);
    if (!superuserAvailable) return;
    const superuser = postgres(`${process.env.QDZ_TEST_PG_BASE_URL}/${database.name}`, { max: 1, onnotice: () => {} });
    try {
      expect(await privilegeProblems(superuser)).toEqual(["postgres is a PostgreSQL superuser"]);
    } finally {
      await superuser.end();
    }
  });

  test("as the app role, ledger entries are appended and read, never updated, deleted, truncated or unguarded", async () => {
    const { accountId } = await newUser(db);
    const { entry } = await postEntry(db, { accountId, kind: "topup", amountCents: 1000, reference: "cs_roles" });
    // Functions: postgres.js runs a query as soon as it is made, and each must run alone.
    const attempts = {
      update: () => db.update(ledgerEntries).set({ amountCents: 999_999 }).where(eq(ledgerEntries.id, entry.id)),
      delete: () => db.delete(ledgerEntries).where(eq(ledgerEntries.id, entry.id)),
      truncate: () => database.sql`truncate ledger_entries`,
      "disable its triggers": () => database.sql`alter table ledger_entries disable trigger all`,
      "drop its trigger": () => database.sql`drop trigger ledger_entries_append_only on ledger_entries`,
      "skip triggers for the session": () => database.sql`set session_replication_role = replica`,
      "skip triggers for a transaction": () => database.sql.begin((tx) => tx`set local session_replication_role = replica`),
    };
    for (const [what, attempt] of Object.entries(attempts)) {
      const refused = await refusal(attempt());
      expect({ what, code: refused.code }).toEqual({ what, code: INSUFFICIENT_PRIVILEGE });
      expect(refused.message).toMatch(/permission denied|must be owner/);
    }
    const rows = await db.select().from(ledgerEntries).where(eq(ledgerEntries.accountId, accountId));
    expect(rows.map((row) => row.amountCents)).toEqual([1000]);
    const [trigger] = await owner().sql`select tgenabled from pg_trigger where tgname = 'ledger_entries_append_only'`;
    expect(trigger!.tgenabled).toBe("O"); // enabled, as it was
  });

  test("tables a later migration adds are the app's to use; the ledger's grant is re-asserted on every run", async () => {
    const app = roles.app.name;
    await owner().sql`create table later_widgets (id bigserial primary key, name text not null)`;
    const [widget] = await database.sql`insert into later_widgets (name) values ('w') returning id, name`;
    expect(widget).toEqual({ id: "1", name: "w" });
    expect(await database.sql`delete from later_widgets`.then((rows) => rows.count)).toBe(1);

    // A careless migration grants too much; the grants step after it takes it back, and runs again unchanged.
    await owner().sql`grant update, delete, truncate on ledger_entries to ${owner().sql(app)}`;
    await grantAppPrivileges(owner().db, app);
    await grantAppPrivileges(owner().db, app);
    const [privileges] = await owner().sql`
      select has_table_privilege(${app}, 'ledger_entries', 'select') as select, has_table_privilege(${app}, 'ledger_entries', 'insert') as insert,
        has_table_privilege(${app}, 'ledger_entries', 'update') as update, has_table_privilege(${app}, 'ledger_entries', 'delete') as delete,
        has_table_privilege(${app}, 'ledger_entries', 'truncate') as truncate`;
    expect(privileges).toEqual({ select: true, insert: true, update: false, delete: false, truncate: false });
  });

  test("/readyz's read of the migrations table is allowed, changing it is not", async () => {
    const [applied] = await db.execute<{ n: number }>(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    expect(applied!.n).toBeGreaterThan(0);
    expect((await refusal(db.execute(sql`delete from drizzle.__drizzle_migrations`))).code).toBe(INSUFFICIENT_PRIVILEGE);
  });

  test("pg-boss runs as the app role: it owns pg-boss's tables, creates a queue, sends and fetches a job", async () => {
    const [job] = await owner().sql`select pg_get_userbyid(relowner) as owner from pg_class where oid = to_regclass('pgboss.job')`;
    expect(job!.owner).toBe(roles.app.name);
    const boss = createQueue(database.url);
    await boss.start();
    try {
      await boss.createQueue("roles.check");
      const id = await boss.send("roles.check", { nonce: "n-7" });
      const [fetched] = await boss.fetch<{ nonce: string }>("roles.check");
      expect({ id: fetched?.id, data: fetched?.data }).toEqual({ id: id!, data: { nonce: "n-7" } });
    } finally {
      await boss.stop({ graceful: false });
    }
  });

  test("the cache triggers fire and LISTEN hears them on the app role's connections", async () => {
    const user = await newUser(db);
    const { key } = await newApiKey(db, user);
    const heard: string[] = [];
    const listener = await database.sql.listen(CACHE_CHANNEL, (payload) => heard.push(payload));
    try {
      await revokeApiKey(await contextOf(db, user), key.id);
      const deadline = Date.now() + 5_000;
      while (heard.length === 0 && Date.now() < deadline) await Bun.sleep(20);
      expect(heard.map((payload) => JSON.parse(payload))).toContainEqual({ kind: "api_key", key_id: key.id });
    } finally {
      await listener.unlisten();
    }
  });
});

const handOverTitle = "a database made before the roles existed";
describe.skipIf(roles.unavailable !== null || !superuserAvailable)(
  superuserAvailable ? handOverTitle : `${handOverTitle} (skipped: it needs the embedded cluster's superuser, and DATABASE_URL is set)`,
  () => {
    test("is handed over at start: the owner owns the schema, the app pg-boss's tables, and nothing is left to the superuser", async () => {
      const name = `qdz_test_legacy_${Date.now()}`;
      const superuserBase = process.env.QDZ_TEST_PG_BASE_URL!;
      const admin = postgres(`${superuserBase}/postgres`, { max: 1, onnotice: () => {} });
      try {
        // As earlier versions left it: migrated, with pg-boss and a queue, all as the superuser.
        await admin.unsafe(`create database ${name}`);
        const legacy = connect(`${superuserBase}/${name}`, { max: 1 });
        await prepareDatabase(legacy.db);
        const { accountId } = await newUser(legacy.db);
        await postEntry(legacy.db, { accountId, kind: "topup", amountCents: 500, reference: "cs_legacy" });
        const oldBoss = createQueue(`${superuserBase}/${name}`);
        await oldBoss.start();
        await oldBoss.createQueue("legacy.queue");
        await oldBoss.stop({ graceful: false });
        await legacy.close();

        const access = await ensureDatabase({ baseUrl: superuserBase, owner: roles.owner, app: roles.app }, name);
        const migrator = connect(access.ownerUrl, { max: 1 });
        await prepareDatabase(migrator.db, access).finally(() => migrator.close());

        const inspect = postgres(`${superuserBase}/${name}`, { max: 1, onnotice: () => {} });
        try {
          const owners = await inspect<{ schema: string; owner: string }[]>`
          select n.nspname as schema, pg_get_userbyid(c.relowner) as owner from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname in ('public', 'drizzle', 'pgboss')
          union select n.nspname, pg_get_userbyid(p.proowner) from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname in ('public', 'pgboss')
          union select n.nspname, pg_get_userbyid(t.typowner) from pg_type t join pg_namespace n on n.oid = t.typnamespace where n.nspname in ('public', 'pgboss')
          union select nspname, pg_get_userbyid(nspowner) from pg_namespace where nspname in ('drizzle', 'pgboss')
          union select 'database', pg_get_userbyid(datdba) from pg_database where datname = current_database()
          order by 1, 2`;
          expect([...owners]).toEqual([
            { schema: "database", owner: roles.owner.name },
            { schema: "drizzle", owner: roles.owner.name },
            { schema: "pgboss", owner: roles.app.name }, // its tables, types and functions
            { schema: "pgboss", owner: roles.owner.name }, // the schema itself
            { schema: "public", owner: roles.owner.name },
          ]);
        } finally {
          await inspect.end();
        }

        const app = connect(access.appUrl, { max: 2 });
        const boss = createQueue(access.appUrl);
        try {
          expect(await privilegeProblems(app.sql)).toEqual([]);
          expect((await refusal(app.sql`update ledger_entries set amount_cents = 1`)).code).toBe(INSUFFICIENT_PRIVILEGE);
          await postEntry(app.db, { accountId, kind: "topup", amountCents: 250, reference: "cs_after" });
          await boss.start();
          await boss.createQueue("after.handover");
          for (const queue of ["legacy.queue", "after.handover"]) {
            const id = await boss.send(queue, { queue });
            const [job] = await boss.fetch(queue);
            expect(job?.id).toBe(id!);
          }
        } finally {
          await boss.stop({ graceful: false });
          await app.close();
        }
      } finally {
        await admin.unsafe(`drop database if exists ${name} with (force)`);
        await admin.end();
      }
    }, 60_000);
  },
);

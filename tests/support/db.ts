import { afterAll } from "bun:test";
import postgres from "postgres";
import { connect, type DatabaseHandle } from "../../db/client";
import { randomBase62 } from "../../src/ids";
import { quoteIdentifier } from "../../src/platform/database-roles";
import { TEMPLATE_DB, testRoles } from "./cluster";

export interface TestDatabase extends DatabaseHandle {
  /** The app role's URL, as the api and workers connect: `db` and `sql` use it. */
  url: string;
  name: string;
  /** The owner's URL: for what the app may not do (the migrations table, privileges, the ledger's trigger). */
  ownerUrl: string;
  /** A connection as the owner, opened on first use and closed with this handle. */
  owner(): DatabaseHandle;
}

/**
 * A new database cloned from the migrated template: each test file gets its
 * own, closed after the file (unless the caller closes it, after what uses it).
 */
export async function freshDatabase(options: { closeAfterAll?: boolean } = {}): Promise<TestDatabase> {
  const baseUrl = process.env.QDZ_TEST_PG_BASE_URL;
  if (!baseUrl) throw new Error("tests/preload.ts did not run: run tests with `bun test` from the project root.");
  const roles = testRoles();
  const name = `qdz_test_${randomBase62(10).toLowerCase()}`;
  const admin = postgres(`${baseUrl}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name} template ${TEMPLATE_DB} owner ${quoteIdentifier(roles.owner.name)}`);
  await admin.end();
  const url = `${roles.app.baseUrl}/${name}`;
  const ownerUrl = `${roles.owner.baseUrl}/${name}`;
  const handle = connect(url);
  let ownerHandle: DatabaseHandle | undefined;
  const close = async () => {
    await Promise.all([handle.close(), ownerHandle?.close()]);
  };
  if (options.closeAfterAll !== false) afterAll(close);
  return { ...handle, close, url, name, ownerUrl, owner: () => (ownerHandle ??= connect(ownerUrl, { max: 2 })) };
}

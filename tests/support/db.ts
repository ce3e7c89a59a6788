import { afterAll } from "bun:test";
import postgres from "postgres";
import { connect, type DatabaseHandle } from "../../db/client";
import { randomBase62 } from "../../src/ids";
import { TEMPLATE_DB } from "./cluster";

export interface TestDatabase extends DatabaseHandle {
  url: string;
  name: string;
}

/**
 * A new database cloned from the migrated template: each test file gets its
 * own, closed after the file (unless the caller closes it, after what uses it).
 */
export async function freshDatabase(options: { closeAfterAll?: boolean } = {}): Promise<TestDatabase> {
  const baseUrl = process.env.QDZ_TEST_PG_BASE_URL;
  if (!baseUrl) throw new Error("tests/preload.ts did not run: run tests with `bun test` from the project root.");
  const name = `qdz_test_${randomBase62(10).toLowerCase()}`;
  const admin = postgres(`${baseUrl}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name} template ${TEMPLATE_DB}`);
  await admin.end();
  const url = `${baseUrl}/${name}`;
  const handle = connect(url);
  if (options.closeAfterAll !== false) afterAll(() => handle.close());
  return { ...handle, url, name };
}

/**
 * One PostgreSQL per test run: the embedded one (or DATABASE_URL's server),
 * a template database with the migrations applied, and a fresh copy of it
 * per test file (see support/db.ts).
 */
import { afterAll } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { connect } from "../db/client";
import { prepareDatabase } from "../src/platform/prepare-database";
import { startEmbeddedPostgres, type RunningPostgres } from "../src/platform/embedded-postgres";
import { freePort, removeAbandonedClusters, TEMPLATE_DB, testDataRoot } from "./support/cluster";

let cluster: RunningPostgres | undefined;
const clusterDir = join(testDataRoot, `run-${process.pid}`);
let baseUrl: string;

if (process.env.DATABASE_URL) {
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = "";
  baseUrl = url.toString().replace(/\/$/, "");
} else {
  await removeAbandonedClusters();
  cluster = await startEmbeddedPostgres({
    dir: clusterDir,
    port: await freePort(),
    persistent: false,
  });
  baseUrl = cluster.baseUrl;
}
process.env.QDZ_TEST_PG_BASE_URL = baseUrl;

const admin = postgres(`${baseUrl}/postgres`, { max: 1, onnotice: () => {} });
await admin.unsafe(`drop database if exists ${TEMPLATE_DB} with (force)`);
await admin.unsafe(`create database ${TEMPLATE_DB}`);
const template = connect(`${baseUrl}/${TEMPLATE_DB}`, { max: 1 });
await prepareDatabase(template.db);
await template.close();

afterAll(async () => {
  if (cluster) {
    // The embedded cluster is thrown away whole: no need to drop its databases one by one.
    await admin.end({ timeout: 1 });
    await cluster.stop();
    rmSync(clusterDir, { recursive: true, force: true });
    return;
  }
  const databases = await admin<{ datname: string }[]>`select datname from pg_database where datname like 'qdz_test_%'`;
  for (const { datname } of databases) await admin.unsafe(`drop database if exists "${datname}" with (force)`);
  await admin.unsafe(`drop database if exists ${TEMPLATE_DB} with (force)`);
  await admin.end();
}, 120_000);

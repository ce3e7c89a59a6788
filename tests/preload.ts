/**
 * One PostgreSQL per test run: the embedded one (or DATABASE_URL's server),
 * a template database with the migrations applied by the owner role and the
 * app role's grants, and a fresh copy of it per test file (see
 * support/db.ts), which tests use as the app role, as production does.
 */
import { afterAll } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { connect } from "../db/client";
import { quoteIdentifier } from "../src/platform/database-roles";
import { type RunningPostgres, startEmbeddedPostgres } from "../src/platform/embedded-postgres";
import { prepareDatabase } from "../src/platform/prepare-database";
import { externalTestRoles, freePort, removeAbandonedClusters, TEMPLATE_DB, TEST_ROLES_ENV, type TestRoles, testDataRoot } from "./support/cluster";

let cluster: RunningPostgres | undefined;
const clusterDir = join(testDataRoot, `run-${process.pid}`);
let baseUrl: string;
let roles: TestRoles;

if (process.env.DATABASE_URL) {
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = "";
  baseUrl = url.toString().replace(/\/$/, "");
  roles = await externalTestRoles(baseUrl);
  if (roles.unavailable) console.warn(`[tests] ${roles.unavailable}`);
} else {
  await removeAbandonedClusters();
  cluster = await startEmbeddedPostgres({
    dir: clusterDir,
    port: await freePort(),
    persistent: false,
  });
  baseUrl = cluster.baseUrl;
  roles = { owner: cluster.owner, app: cluster.app, unavailable: null };
}
process.env.QDZ_TEST_PG_BASE_URL = baseUrl;
process.env[TEST_ROLES_ENV] = JSON.stringify(roles);
// Platforms the e2e tests start (they inherit this environment) sign up every test's user from
// 127.0.0.1; the sign-up limit itself is tested with its own low setting (integration/auth-limits).
process.env.SIGNUP_MAX_PER_IP ??= "1000";

const admin = postgres(`${baseUrl}/postgres`, { max: 1, onnotice: () => {} });
await admin.unsafe(`drop database if exists ${TEMPLATE_DB} with (force)`);
await admin.unsafe(`create database ${TEMPLATE_DB} owner ${quoteIdentifier(roles.owner.name)}`);
const template = connect(`${roles.owner.baseUrl}/${TEMPLATE_DB}`, { max: 1 });
await prepareDatabase(template.db, roles.unavailable ? undefined : { appRole: roles.app.name, appUrl: `${roles.app.baseUrl}/${TEMPLATE_DB}` });
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

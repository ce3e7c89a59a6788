/**
 * `npm run migrate`: prepares the database (migrations, the app role's grants, then the catalog), for
 * deployments that migrate before rolling out. Connects as DATABASE_OWNER_URL, or DATABASE_URL without it.
 */
import { connect } from "../db/client";
import { config } from "../src/config";
import { externalDatabaseAccess } from "../src/platform/database-access";
import { configureLogging, log } from "../src/platform/log";
import { prepareDatabase } from "../src/platform/prepare-database";

const settings = config();
configureLogging({ level: settings.LOG_LEVEL, process: "migrate" });
if (!settings.DATABASE_URL) throw new Error("Set DATABASE_URL to the database to migrate (and DATABASE_OWNER_URL when its owner is another user).");
const access = await externalDatabaseAccess(settings.DATABASE_URL, settings.DATABASE_OWNER_URL);
const database = connect(access.ownerUrl, { max: 1 });
await prepareDatabase(database.db, access);
await database.close();
log.info(`migrations applied${access.appRole ? `, ${access.appRole} granted its privileges` : ""} and catalog synced`);

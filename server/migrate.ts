/** `npm run migrate`: prepares DATABASE_URL (migrations, then the catalog), for deployments that migrate before rolling out. */
import { connect } from "../db/client";
import { prepareDatabase } from "../src/platform/prepare-database";

const url = process.env.DATABASE_URL;
if (!url) throw new Error("Set DATABASE_URL to the database to migrate.");
const database = connect(url, { max: 1 });
await prepareDatabase(database.db);
await database.close();
console.log("migrations applied and catalog synced");

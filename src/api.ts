import { connect } from "../db/client";
import { KeyUsageRecorder } from "./api-keys/authenticate";
import { createApp } from "./app";
import { config } from "./config";
import { exitWithSupervisor } from "./platform/supervised";

const settings = config();
if (!settings.DATABASE_URL) {
  console.error("DATABASE_URL is not set. Run `npm start` to use the embedded PostgreSQL, or point DATABASE_URL at yours.");
  process.exit(1);
}
const database = connect(settings.DATABASE_URL);
const keyUsage = new KeyUsageRecorder(database.db).start(settings.KEY_USAGE_FLUSH_MS);
const app = createApp({ db: database.db, config: settings, keyUsage }).listen({ port: settings.PORT, hostname: settings.HOST });

console.log(`api listening on http://${settings.HOST}:${app.server?.port}`);

async function shutdown() {
  await app.server?.stop();
  await keyUsage.stop();
  await database.close();
  process.exit(0);
}
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
exitWithSupervisor(shutdown);

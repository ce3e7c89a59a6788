import { connect } from "../db/client";
import { KeyUsageRecorder } from "../src/api-keys/authenticate";
import { config } from "../src/config";
import { HeartbeatBatcher } from "../src/instances/heartbeats";
import { createQueue, jobQueue } from "../src/jobs/queue";
import { configureLogging, log } from "../src/platform/log";
import { warnIfPrivileged } from "../src/platform/role-check";
import { exitWithSupervisor } from "../src/platform/supervised";
import { buildProviders } from "../src/providers/registry";
import { ProxyCache } from "../src/proxy/cache";
import { createApp } from "./app";

const settings = config();
configureLogging({ level: settings.LOG_LEVEL, process: "api" });
if (!settings.DATABASE_URL) {
  log.fatal("DATABASE_URL is not set. Run `npm start` to use the embedded PostgreSQL, or point DATABASE_URL at yours.");
  process.exit(1);
}
const database = connect(settings.DATABASE_URL);
await warnIfPrivileged(database.sql, "api");
// The api only sends jobs: no maintenance or cron here, the workers do that.
const boss = createQueue(settings.DATABASE_URL, { sendOnly: true });
await boss.start();
const keyUsage = new KeyUsageRecorder(database.db).start(settings.KEY_USAGE_FLUSH_MS);
const heartbeats = new HeartbeatBatcher(database.db).start(1000);
const providers = await buildProviders(database.db, settings);
// Listening before the port opens: no /v1 answer is ever served from a cache that cannot hear invalidations.
const proxyCache = new ProxyCache(database.db, { ttlMs: settings.V1_CACHE_TTL_MS });
await proxyCache.listen(database.sql);
const app = createApp({ db: database.db, config: settings, keyUsage, heartbeats, jobs: jobQueue(boss), boss, providers, proxyCache }).listen({
  port: settings.PORT,
  hostname: settings.HOST,
});

log.info(`api listening on http://${settings.HOST}:${app.server?.port}`);

async function shutdown() {
  await app.server?.stop();
  await proxyCache.close();
  await Promise.all([keyUsage.stop(), heartbeats.stop()]);
  await boss.stop({ graceful: false });
  await database.close();
  process.exit(0);
}
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
exitWithSupervisor(shutdown);

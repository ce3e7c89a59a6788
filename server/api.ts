import { connect } from "../db/client";
import { KeyUsageRecorder } from "../src/api-keys/authenticate";
import { config } from "../src/config";
import { HeartbeatBatcher } from "../src/instances/heartbeats";
import { createQueue, jobQueue } from "../src/jobs/queue";
import { CacheBus } from "../src/platform/cache-bus";
import { databaseGauges } from "../src/platform/database-gauges";
import { configureLogging, log } from "../src/platform/log";
import { serveMetrics } from "../src/platform/metrics-listener";
import { warnIfPrivileged } from "../src/platform/role-check";
import { exitWithSupervisor } from "../src/platform/supervised";
import { buildProviders } from "../src/providers/registry";
import { createApp } from "./app";

const settings = config();
configureLogging({ level: settings.LOG_LEVEL, process: settings.API_REPLICAS > 1 ? `api-${settings.QDZ_REPLICA}` : "api" });
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
// Listening before the port opens: no answer is ever served from a cache that cannot hear invalidations.
const cacheBus = new CacheBus();
await cacheBus.listen(database.sql);
const app = createApp({ db: database.db, config: settings, keyUsage, heartbeats, jobs: jobQueue(boss), boss, providers, cacheBus }).listen({
  port: settings.PORT,
  hostname: settings.HOST,
  // Several api replicas on one port: only when asked, so a second platform started by mistake on a taken port fails loudly.
  reusePort: settings.API_REPLICAS > 1,
});

log.info(`api listening on http://${settings.HOST}:${app.server?.port}`);
const metrics = serveMetrics({
  basePort: settings.API_METRICS_PORT,
  replica: settings.QDZ_REPLICA,
  host: settings.HOST,
  operatorToken: settings.OPERATOR_TOKEN,
  extra: databaseGauges(database.db, boss),
  name: settings.API_REPLICAS > 1 ? `api-${settings.QDZ_REPLICA}` : "api",
});

async function shutdown() {
  await app.server?.stop();
  metrics?.stop(true);
  await cacheBus.close();
  await Promise.all([keyUsage.stop(), heartbeats.stop()]);
  await boss.stop({ graceful: false });
  await database.close();
  process.exit(0);
}
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
exitWithSupervisor(shutdown);

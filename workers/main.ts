import { connect } from "../db/client";
import { config } from "../src/config";
import { createQueue, jobQueue } from "../src/jobs/queue";
import { configureLogging, log } from "../src/platform/log";
import { serveMetrics } from "../src/platform/metrics-listener";
import { warnIfPrivileged } from "../src/platform/role-check";
import { exitWithSupervisor } from "../src/platform/supervised";
import { buildProviders } from "../src/providers/registry";
import { registerWorkers } from "./registry";

const settings = config();
configureLogging({ level: settings.LOG_LEVEL, process: settings.WORKER_REPLICAS > 1 ? `workers-${settings.QDZ_REPLICA}` : "workers" });
if (!settings.DATABASE_URL) {
  log.fatal("DATABASE_URL is not set. Run `npm start` to use the embedded PostgreSQL, or point DATABASE_URL at yours.");
  process.exit(1);
}

const database = connect(settings.DATABASE_URL, { max: 5 });
await warnIfPrivileged(database.sql, "workers");
const boss = createQueue(settings.DATABASE_URL);
await boss.start();
await registerWorkers(boss, {
  db: database.db,
  config: settings,
  jobs: jobQueue(boss),
  providers: await buildProviders(database.db, settings),
});
const metrics = serveMetrics({
  basePort: settings.WORKERS_METRICS_PORT,
  replica: settings.QDZ_REPLICA,
  host: settings.HOST,
  operatorToken: settings.OPERATOR_TOKEN,
  name: "workers",
});
// Plain text, not a log line: what starts the workers (tests, people) waits for exactly this line.
console.log("workers started");

/**
 * Asks for `name` now and every `seconds` after, from every worker replica: the singleton slot makes it one
 * job per slot however many replicas ask, and while any replica lives the job keeps coming (a chain of jobs
 * each queuing the next breaks when the replica holding it is killed).
 */
function every(name: "instances.reconcile" | "billing.tick" | "spend.watch" | "schedules.fire", seconds: number): Timer {
  const send = () => boss.send(name, {}, { singletonKey: name, singletonSeconds: seconds }).catch(() => null);
  void send();
  return setInterval(send, seconds * 1000);
}
// Reconcile now (a restart is when the database and the providers most likely disagree), then every 10 s.
// The spend watcher looks as often as the tick bills: a budget crossed by a tick stops its instance by the next.
const timers = [
  every("instances.reconcile", 10),
  every("billing.tick", settings.BILLING_TICK_SECONDS),
  every("spend.watch", settings.BILLING_TICK_SECONDS),
  every("schedules.fire", settings.SCHEDULE_POLL_SECONDS),
];

async function shutdown() {
  for (const timer of timers) clearInterval(timer);
  metrics?.stop(true);
  // Lets running jobs finish (pg-boss waits for them), then releases the database.
  await boss.stop({ graceful: true, timeout: 10_000 });
  await database.close();
  process.exit(0);
}
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
exitWithSupervisor(shutdown);

import type { Database } from "../db/client";
import type { KeyUsageRecorder } from "../src/api-keys/authenticate";
import type { WebhookDelivery } from "../src/billing/dev-checkout";
import type { PaymentGateway } from "../src/billing/gateway";
import type { Config } from "../src/config";
import type { HeartbeatBatcher } from "../src/instances/heartbeats";
import type { JobQueue } from "../src/jobs/queue";
import type { QueueReader } from "../src/platform/database-gauges";
import type { Provider } from "../src/providers/seam";

/** What the api process shares with every procedure. */
export interface Services {
  db: Database;
  config: Config;
  keyUsage?: KeyUsageRecorder;
  /** Stripe, or the development gateway when no Stripe keys are set. */
  gateway: PaymentGateway;
  /** Posts a signed event to this api's own /webhooks/stripe (the development gateway's "Pay"). */
  deliverWebhook: WebhookDelivery;
  /** Batches the pods' heartbeats and samples into a few writes a second. */
  heartbeats: HeartbeatBatcher;
  /** Enqueues background jobs (provisioning, stops), inside transactions when asked. */
  jobs: JobQueue;
  /** Where pods run; the api only reads from them (logs), the workers act on them. */
  providers: Provider[];
  /** pg-boss, read for queue depths (/metrics, the Operator page); without it they are left out. */
  boss?: QueueReader;
}

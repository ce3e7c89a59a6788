import { sql } from "drizzle-orm";
import { bigint, bigserial, index, integer, jsonb, pgEnum, pgTable, primaryKey, real, text, uniqueIndex } from "drizzle-orm/pg-core";
import { accounts } from "./accounts";
import { capacityTier, modelClass } from "./catalog";
import { createdAt, prefixedId, timestamptz } from "./columns";

export const instanceState = pgEnum("instance_state", ["pending", "running", "stopping", "stopped", "failed", "non_bootstrap"]);
export const placementMode = pgEnum("placement_mode", ["smart", "pinned"]);

/** The catalog prices of every GPU type the instance may be placed on, copied at launch. */
export interface PricingSnapshot {
  lockedAt: string;
  modelClass: (typeof modelClass.enumValues)[number];
  tier: (typeof capacityTier.enumValues)[number];
  gpuCount: number;
  rows: { gpuType: string; rateCentsPerGpuHour: number; providerCostCentsPerGpuHour: number; catalogUpdatedAt: string }[];
}

/** What the pod runs, fixed at launch and shown read-only in Settings. */
export interface RuntimeConfig {
  runtimeId: string | null;
  templateId: string | null;
  image: string;
  command: string[];
  /** The program the local provider runs when installed (e.g. `llama-server`); empty means the reference runtime. */
  localBinary: string | null;
  port: number | null;
  healthPath: string | null;
  ports: { port: number; name: string }[];
  contextLength: number | null;
}

export interface BootProgress {
  phase: string;
  progress: number | null;
  message: string;
  at: string;
}

/** One rental: a pod serving a model (or a plain template pod) and everything decided about it. */
export const instances = pgTable(
  "instances",
  {
    id: prefixedId(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    /** Null shows as the short id. */
    name: text("name"),
    description: text("description"),
    /** The `model` id on /v1; null for plain pods. Unique per account among live instances. */
    servingName: text("serving_name"),
    state: instanceState("state").notNull(),
    stateChangedAt: timestamptz("state_changed_at").notNull().defaultNow(),
    hfRepo: text("hf_repo"),
    /** For GGUF repos: the file served. */
    modelFile: text("model_file"),
    task: text("task", { enum: ["chat", "embeddings"] }),
    modelClass: modelClass("model_class").notNull(),
    /** GPU types it may be placed on, most preferred first. */
    gpuPreferences: text("gpu_preferences").array().notNull(),
    gpuCount: integer("gpu_count").notNull(),
    minVramGib: integer("min_vram_gib"),
    tier: capacityTier("tier").notNull(),
    /** Regional pinning: it is never placed outside these; empty means anywhere. */
    allowedRegions: text("allowed_regions").array().notNull().default(sql`'{}'`),
    maxPriceCentsPerHour: integer("max_price_cents_per_hour"),
    placementMode: placementMode("placement_mode").notNull().default("smart"),
    contextLength: integer("context_length"),
    pricingSnapshot: jsonb("pricing_snapshot").$type<PricingSnapshot>().notNull(),
    runtimeConfig: jsonb("runtime_config").$type<RuntimeConfig>().notNull(),
    /** The Hugging Face validation at launch (architecture, task, VRAM estimate). */
    modelAssessment: jsonb("model_assessment"),
    /** Set by placement; kept when stopped so pinned mode can return to it. */
    providerId: text("provider_id"),
    region: text("region"),
    gpuType: text("gpu_type"),
    /** The hourly rate of the current placement, from the pricing snapshot (never the live catalog). */
    rateCentsPerHour: integer("rate_cents_per_hour"),
    currentRunId: text("current_run_id"),
    progress: jsonb("progress").$type<BootProgress>(),
    failureReason: text("failure_reason"),
    failureRemediation: text("failure_remediation"),
    ...createdAt,
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
    /** Deleted instances keep their row (the ledger refers to them) but leave every list. */
    deletedAt: timestamptz("deleted_at"),
  },
  (t) => [
    index("instances_account_idx").on(t.accountId, t.createdAt),
    uniqueIndex("instances_account_serving_name_key").on(t.accountId, t.servingName).where(sql`${t.servingName} is not null and ${t.deletedAt} is null`),
    index("instances_state_idx").on(t.state),
  ],
);

/** Every state change, with its time and cause: the instance's history. */
export const instanceEvents = pgTable(
  "instance_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    instanceId: text("instance_id")
      .notNull()
      .references(() => instances.id, { onDelete: "cascade" }),
    fromState: instanceState("from_state"),
    toState: instanceState("to_state").notNull(),
    cause: text("cause").notNull(),
    detail: jsonb("detail"),
    at: timestamptz("at").notNull().defaultNow(),
  },
  (t) => [index("instance_events_instance_idx").on(t.instanceId, t.at)],
);

/**
 * A launch's `Idempotency-Key` (REST): one instance per key and account, kept as long as the account, so a retry
 * however late never makes a second. The primary key is what makes two racing launches one: the second's insert
 * waits for the first's transaction and then finds its row. The instance reference is checked at commit
 * (migration 0021), so the key is claimed first, before anything else of the launch is written.
 */
export const launchKeys = pgTable(
  "launch_keys",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    /** SHA-256 of the launch's fields (never its Hugging Face token): the same key with another launch is refused. */
    requestHash: text("request_hash").notNull(),
    instanceId: text("instance_id")
      .notNull()
      .references(() => instances.id, { onDelete: "cascade" }),
    ...createdAt,
  },
  (t) => [primaryKey({ columns: [t.accountId, t.key] })],
);

/** One pod's life: from placement to release. Heartbeats extend it; metering reads it. */
/** Why a run ended: a user's (or schedule's) stop, the grace window, a delete, a monthly budget reached, a crash, a lost pod, a reclaimed spot pod, a runtime that never became healthy, or no offer that could be provisioned. */
export const runEndReason = pgEnum("run_end_reason", [
  "stopped",
  "grace",
  "deleted",
  "failed",
  "lost",
  "reclaimed",
  "non_bootstrap",
  "placement_failed",
  "budget",
]);

export const instanceRuns = pgTable(
  "instance_runs",
  {
    id: prefixedId(),
    instanceId: text("instance_id")
      .notNull()
      .references(() => instances.id, { onDelete: "cascade" }),
    number: integer("number").notNull(),
    providerId: text("provider_id"),
    podId: text("pod_id"),
    /** The provider's own id for the pod (RunPod's pod id, Vast's instance id, …): what its status and stop take. */
    externalPodId: text("external_pod_id"),
    region: text("region"),
    gpuType: text("gpu_type"),
    rateCentsPerHour: integer("rate_cents_per_hour"),
    /**
     * Where the pod's OpenAI-compatible runtime answers (the /v1 proxy forwards here); null for plain pods, and
     * until a cloud pod's address is known (the proxy answers 503 until then).
     */
    runtimeUrl: text("runtime_url"),
    /** The pod's ports as reachable, for the Details tab. */
    ports: jsonb("ports").$type<{ name: string; port: number; url: string }[]>(),
    /** When a provisioning job claimed this run: a second job (a retry, a requeue) leaves a claimed run alone. */
    claimedAt: timestamptz("claimed_at"),
    /**
     * The pod id a provisioner is about to create, written before it asks the provider: a provisioner
     * that takes over after a crash stops this pod first, so a run never has two.
     */
    provisioningPodId: text("provisioning_pod_id"),
    /** SHA-256 of the sidecar agent's token, made when the pod is provisioned. */
    agentTokenHash: text("agent_token_hash"),
    ...createdAt,
    runningAt: timestamptz("running_at"),
    lastHeartbeatAt: timestamptz("last_heartbeat_at"),
    /** When billing for the run ended (the database clock): the stop request, the failure or loss detected, the reclaim. */
    endedAt: timestamptz("ended_at"),
    /** Why it ended, in words people read (the provider's error, the exit code). */
    endReason: text("end_reason"),
    /** Why it ended, as metering and refunds read it. */
    endedBecause: runEndReason("ended_because"),
    /** Whole billable seconds already turned into debits (cumulative; the tick and settlement only move it forward). */
    billedSeconds: integer("billed_seconds").notNull().default(0),
    /** Cents debited for the run so far: always floor(billed_seconds × rate_cents_per_hour / 3600). */
    billedCents: bigint("billed_cents", { mode: "number" }).notNull().default(0),
    /** When the ended run was settled to its end (and refunded, when it failed early); null until then. */
    settledAt: timestamptz("settled_at"),
  },
  (t) => [
    uniqueIndex("instance_runs_instance_number_key").on(t.instanceId, t.number),
    uniqueIndex("instance_runs_agent_token_key").on(t.agentTokenHash),
    // The billing tick's claim: live runs that have reached running.
    index("instance_runs_billable_idx").on(t.id).where(sql`${t.endedAt} is null and ${t.runningAt} is not null`),
    // Settlement's work list: ended runs not yet settled.
    index("instance_runs_unsettled_idx").on(t.endedAt).where(sql`${t.endedAt} is not null and ${t.settledAt} is null`),
  ],
);

/** Why an instance went where it went: every offer considered, its score, or why it was ruled out. */
export const placementDecisions = pgTable(
  "placement_decisions",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    instanceId: text("instance_id")
      .notNull()
      .references(() => instances.id, { onDelete: "cascade" }),
    runId: text("run_id").notNull(),
    mode: placementMode("mode").notNull(),
    /** Offers with score and components, or the rule that ruled each out. */
    considered: jsonb("considered").notNull(),
    /** Provision attempts in order (failover), each with its outcome. */
    attempts: jsonb("attempts").notNull(),
    chosenOfferId: text("chosen_offer_id"),
    decidedAt: timestamptz("decided_at").notNull().defaultNow(),
  },
  (t) => [index("placement_decisions_instance_idx").on(t.instanceId, t.decidedAt)],
);

/** Resource samples from the sidecar agent; GPU fields are null when the pod has no GPU to read. Kept 24 h (RESOURCE_SAMPLE_RETENTION_HOURS). */
export const resourceSamples = pgTable(
  "resource_samples",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    instanceId: text("instance_id")
      .notNull()
      .references(() => instances.id, { onDelete: "cascade" }),
    at: timestamptz("at").notNull(),
    cpuPercent: real("cpu_percent"),
    memoryUsedBytes: bigint("memory_used_bytes", { mode: "number" }),
    memoryTotalBytes: bigint("memory_total_bytes", { mode: "number" }),
    diskUsedBytes: bigint("disk_used_bytes", { mode: "number" }),
    diskTotalBytes: bigint("disk_total_bytes", { mode: "number" }),
    gpuUtilPercent: real("gpu_util_percent"),
    vramUsedBytes: bigint("vram_used_bytes", { mode: "number" }),
    vramTotalBytes: bigint("vram_total_bytes", { mode: "number" }),
    gpuTemperatureC: real("gpu_temperature_c"),
  },
  (t) => [
    index("resource_samples_instance_at_idx").on(t.instanceId, t.at),
    // Pruning's range: the oldest samples of every instance, found without scanning the table.
    index("resource_samples_at_idx").on(t.at),
  ],
);

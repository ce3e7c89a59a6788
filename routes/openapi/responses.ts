import { z } from "zod";
import { apiKeyScope } from "../../db/schema/keys";
import { ledgerKinds } from "../../src/billing/schemas";
import { instanceStates } from "../../src/instances/state-machine";
import { usageRanges } from "../../src/usage/types";

/*
 * What the REST surface answers, as zod schemas the OpenAPI document is written from. The verbs' own return
 * types are the truth: `operation()` (routes/rest-operations.ts) checks at compile time that each handler's
 * answer serialises to its schema, and the tests validate every answer against the document at run time.
 */

/** An instant as JSON carries it (ISO 8601, UTC). */
export const instant = z.string().meta({ format: "date-time" });
const state = z.enum(instanceStates);
const tier = z.enum(["secure", "community"]);
/** A JSON value the platform records as it was (a model assessment, a placement's considered offers). */
const recorded = z.unknown().meta({ description: "Recorded as it was; its shape may grow." });

export const restError = z
  .object({
    error: z.object({
      code: z
        .string()
        .meta({ description: "Lower-case: invalid_input, unauthenticated, forbidden, not_found, conflict, precondition_failed, rate_limited, …" }),
      message: z.string(),
      field: z.string().nullable().meta({ description: "The input the error is about (a body field, a query parameter, `Idempotency-Key`), or null." }),
      request_id: z.string(),
    }),
  })
  .meta({ id: "Error" });

export const instance = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    displayName: z.string(),
    state,
    servingName: z.string().nullable().meta({ description: "The `model` to pass to /v1/chat/completions; null for plain pods." }),
    hfRepo: z.string().nullable(),
    runtimeId: z.string().nullable(),
    templateId: z.string().nullable(),
    gpuType: z.string().nullable(),
    gpuCount: z.int(),
    gpuPreferences: z.array(z.string()),
    tier,
    region: z.string().nullable(),
    providerId: z.string().nullable(),
    rateCentsPerHour: z.int().nullable(),
    progress: z.object({ phase: z.string(), progress: z.number().nullable(), message: z.string(), at: z.string() }).nullable(),
    failureReason: z.string().nullable(),
    createdAt: instant,
    stateChangedAt: instant,
  })
  .meta({ id: "Instance" });

export const instanceEvent = z
  .object({ id: z.int(), at: instant, from: state.nullable(), to: state, cause: z.string(), detail: recorded })
  .meta({ id: "InstanceEvent" });

const runtimeConfig = z.object({
  runtimeId: z.string().nullable(),
  templateId: z.string().nullable(),
  image: z.string(),
  command: z.array(z.string()),
  localBinary: z.string().nullable(),
  port: z.int().nullable(),
  healthPath: z.string().nullable(),
  ports: z.array(z.object({ port: z.int(), name: z.string() })),
  contextLength: z.int().nullable(),
});

export const instanceDetail = instance
  .extend({
    description: z.string().nullable(),
    task: z.enum(["chat", "embeddings"]).nullable(),
    modelFile: z.string().nullable(),
    contextLength: z.int().nullable(),
    allowedRegions: z.array(z.string()),
    maxPriceCentsPerHour: z.int().nullable(),
    placementMode: z.enum(["smart", "pinned"]),
    minVramGib: z.int().nullable(),
    pricingSnapshot: z.object({
      lockedAt: z.string(),
      modelClass: z.string(),
      tier,
      gpuCount: z.int(),
      rows: z.array(z.object({ gpuType: z.string(), rateCentsPerGpuHour: z.int(), catalogUpdatedAt: z.string() })),
    }),
    runtimeConfig,
    modelAssessment: recorded,
    failureRemediation: z.string().nullable(),
    events: z.array(instanceEvent),
    placement: z
      .object({
        id: z.int(),
        instanceId: z.string(),
        runId: z.string(),
        mode: z.enum(["smart", "pinned"]),
        considered: recorded,
        attempts: recorded,
        chosenOfferId: z.string().nullable(),
        decidedAt: instant,
      })
      .nullable(),
    runs: z.array(
      z.object({
        id: z.string(),
        number: z.int(),
        providerId: z.string().nullable(),
        podId: z.string().nullable(),
        region: z.string().nullable(),
        gpuType: z.string().nullable(),
        rateCentsPerHour: z.int().nullable(),
        runtimeUrl: z.string().nullable(),
        ports: z.array(z.object({ name: z.string(), port: z.int(), url: z.string() })).nullable(),
        createdAt: instant,
        runningAt: instant.nullable(),
        lastHeartbeatAt: instant.nullable(),
        endedAt: instant.nullable(),
        endReason: z.string().nullable(),
        endedBecause: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: "InstanceDetail" });

export const nextCursor = z.string().nullable().meta({ description: "Pass as `cursor` for the next page; null on the last page." });

export const instancePage = z.object({ data: z.array(instance), next_cursor: nextCursor }).meta({ id: "InstancePage" });
export const instanceEventPage = z.object({ data: z.array(instanceEvent), next_cursor: nextCursor }).meta({ id: "InstanceEventPage" });

export const bulkResult = z
  .object({
    changed: z.array(z.string()),
    skipped: z.array(z.object({ id: z.string(), state, reason: z.string() })).meta({ description: "Instances left as they were, with why." }),
  })
  .meta({ id: "BulkResult" });

export const deleted = z.object({ id: z.string(), deleted: z.literal(true) }).meta({ id: "Deleted" });

const meteredTotals = { seconds_billed: z.int(), debited_cents: z.int(), refunded_cents: z.int() };
export const metered = z
  .object({
    instance_id: z.string(),
    seconds_billed: z.int(),
    rate_per_hour: z.number().nullable().meta({ description: "EUR per hour." }),
    rate_cents_per_hour: z.int().nullable(),
    current_charge: z.number().meta({ description: "EUR: floor(seconds_billed × rate_cents_per_hour / 3600) to a tenth of a cent." }),
    debited_cents: z.int(),
    refunded_cents: z.int(),
    runs: z.array(
      z.object({
        run_id: z.string(),
        number: z.int(),
        running_at: instant.nullable(),
        ended_at: instant.nullable(),
        ended_because: z.string().nullable(),
        rate_cents_per_hour: z.int().nullable(),
        settled: z.boolean(),
        ...meteredTotals,
      }),
    ),
    total: z.object(meteredTotals),
  })
  .meta({ id: "Metered" });

export const instanceLogs = z
  .object({
    runId: z.string().nullable(),
    text: z.string(),
    available: z.boolean().meta({ description: "False when the run has no pod or its provider keeps no logs." }),
  })
  .meta({ id: "InstanceLogs" });

const scheduleAction = z.enum(["start", "stop"]);
export const scheduleExecution = z
  .object({
    id: z.int(),
    ruleId: z.string(),
    accountId: z.string(),
    instanceId: z.string(),
    action: scheduleAction,
    cron: z.string(),
    timeZone: z.string(),
    dueAt: instant,
    executedAt: instant,
    outcome: z.enum(["succeeded", "skipped", "failed", "missed"]),
    detail: z.string().nullable(),
  })
  .meta({ id: "ScheduleExecution" });

export const scheduleRule = z
  .object({
    id: z.string(),
    accountId: z.string(),
    instanceId: z.string(),
    action: scheduleAction,
    cron: z.string(),
    timeZone: z.string(),
    enabled: z.boolean(),
    note: z.string().nullable(),
    nextRunAt: instant.nullable(),
    createdAt: instant,
    updatedAt: instant,
    description: z.string().meta({ description: 'The rule in words: "At 08:00, Monday through Friday".' }),
    upcoming: z.array(instant),
    lastExecution: scheduleExecution.nullable(),
  })
  .meta({ id: "ScheduleRule" });

export const scheduleRules = z.object({ data: z.array(scheduleRule) }).meta({ id: "ScheduleRuleList" });
export const scheduleHistory = z.object({ data: z.array(scheduleExecution), next_cursor: nextCursor }).meta({ id: "ScheduleHistoryPage" });
export const ok = z.object({ ok: z.literal(true) }).meta({ id: "Ok" });

const bucket = {
  start: instant,
  end: instant,
  granularity: z.enum(["hour", "day"]),
  cost_cents: z.int(),
  billable_seconds: z.int(),
  refunded_cents: z.int(),
  partial: z.boolean(),
};
const cards = z.object({
  month_to_date_cents: z.int(),
  average_daily_cents: z.number(),
  days_counted: z.int(),
  active_seconds: z.int(),
  refunded_cents: z.int(),
});
const usageCommon = { range: z.enum(usageRanges), time_zone: z.string() };

export const instanceUsage = z.object({ instance_id: z.string(), ...usageCommon, buckets: z.array(z.object(bucket)), cards }).meta({ id: "InstanceUsage" });
export const accountUsage = z
  .object({
    ...usageCommon,
    buckets: z.array(
      z.object({
        ...bucket,
        by_instance: z.array(
          z.object({ instance_id: z.string().nullable().meta({ description: "Null: the instances beyond the top ones, together." }), cost_cents: z.int() }),
        ),
      }),
    ),
    top_instances: z.array(
      z.object({ instance_id: z.string(), name: z.string(), deleted: z.boolean(), cost_cents: z.int(), billable_seconds: z.int(), refunded_cents: z.int() }),
    ),
    cards,
  })
  .meta({ id: "AccountUsage" });
/** GET /billing/usage answers either, by whether `instance_id` was given. */
export const usage = z.union([instanceUsage, accountUsage]).meta({ id: "Usage" });

export const launchCheck = z
  .object({
    assessment: recorded.meta({ description: "The model against the runtime and GPUs (architecture, task, VRAM estimate, problems); null for a plain pod." }),
    modelClass: z.enum(["pod", "embeddings", "llm", "llm_large"]),
    placement: z.object({
      placeable: z.boolean(),
      gpuPreferences: z.array(z.string()),
      reason: z.string().nullable(),
      field: z.string().nullable(),
      message: z.string().nullable(),
      picked: recorded,
      best: recorded,
      choices: z.array(recorded),
      alternatives: z.array(recorded),
    }),
  })
  .meta({ id: "LaunchCheck" });

export const apiKey = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().meta({ description: "The key's first characters, to tell keys apart; the secret is shown once, at creation." }),
    scope: z.enum(apiKeyScope.enumValues),
    createdAt: instant,
    lastUsedAt: instant.nullable(),
    requestCount: z.int(),
    revokedAt: instant.nullable(),
  })
  .meta({ id: "ApiKey" });
export const apiKeyList = z.object({ data: z.array(apiKey) }).meta({ id: "ApiKeyList" });

// The billing routes (routes/billing.ts), described from the same values they answer.
export const balance = z
  .object({
    balance_cents: z.int(),
    currency: z.literal("eur"),
    grace: z.object({ active: z.boolean(), started_at: instant.nullable(), ends_at: instant.nullable() }),
    burn_rate_cents_per_hour: z.int(),
    running_instances: z.int(),
    runway_seconds: z.int().nullable(),
    low_runway: z.boolean(),
  })
  .meta({ id: "Balance" });
export const ledgerEntry = z
  .object({
    id: z.string(),
    kind: z.enum(ledgerKinds),
    amount_cents: z.int(),
    currency: z.literal("eur"),
    reference: z.string(),
    instance_id: z.string().nullable(),
    description: z.string().nullable(),
    created_at: instant,
  })
  .meta({ id: "LedgerEntry" });
export const ledgerPage = z.object({ data: z.array(ledgerEntry), next_cursor: nextCursor }).meta({ id: "LedgerPage" });
export const checkout = z.object({ id: z.string(), url: z.string() }).meta({ id: "Checkout" });
export const debit = z.object({ entry: ledgerEntry, created: z.boolean(), balance_cents: z.int() }).meta({ id: "Debit" });

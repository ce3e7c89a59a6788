import { z } from "zod";
import { auditActorKind, installState, notificationKind } from "../../db/schema";
import { auditChanges, auditKinds } from "../../src/audit/schemas";
import { instant, nextCursor } from "./responses";

/*
 * What the budget, notification, SSH key, runtime and audit routes answer. Budgets, notifications and audit rows
 * in the snake_case of `qdz … --json` (src/spend/json.ts, src/notifications/json.ts, src/audit/json.ts); SSH keys
 * and runtimes as tRPC answers them.
 */

export const budget = z
  .object({
    id: z.string(),
    scope: z.enum(["account", "instance"]),
    instance_id: z.string().nullable(),
    instance_name: z.string().nullable(),
    monthly_cents: z.int(),
    currency: z.literal("eur"),
    stop_running: z.boolean().meta({ description: "Account budgets: running instances stop at 100 % too, not only new launches." }),
    spent_cents: z.int().meta({ description: "Net spend this UTC month (debits less refunds)." }),
    percent: z.int().meta({ description: "Whole percent of the budget spent, floored." }),
    resets_at: instant.meta({ description: "The start of the next UTC month, when the month's spend starts again from zero." }),
  })
  .meta({ id: "Budget" });
export const budgets = z
  .object({ account: budget.nullable(), instances: z.array(budget) })
  .meta({ id: "Budgets", description: "Alerts come at 50, 80 and 100 %; at 100 % an instance's budget stops it." });
export const budgetRemoved = z.object({ instance_id: z.string().nullable(), removed: z.literal(true) }).meta({ id: "BudgetRemoved" });

export const notification = z
  .object({
    id: z.string(),
    kind: z.enum(notificationKind.enumValues),
    severity: z.enum(["info", "warning", "critical"]),
    title: z.string(),
    body: z.string(),
    instance_id: z.string().nullable(),
    data: z
      .record(z.string(), z.unknown())
      .meta({ description: "The machine-readable facts (percent, cents, runway hours, run id), as the webhook carries them." }),
    created_at: instant,
    read_at: instant.nullable(),
  })
  .meta({ id: "Notification" });
export const notificationPage = z
  .object({ data: z.array(notification), unread: z.int().meta({ description: "The account's unread count." }), next_cursor: nextCursor })
  .meta({ id: "NotificationPage" });
export const unread = z.object({ unread: z.int().meta({ description: "The unread count left." }) }).meta({ id: "UnreadCount" });

export const sshKey = z
  .object({
    id: z.string(),
    accountId: z.string(),
    name: z.string(),
    algorithm: z.string(),
    publicKey: z.string().meta({ description: "OpenSSH `authorized_keys` form." }),
    fingerprint: z.string().meta({ description: "`SHA256:…`, as `ssh-keygen -l` prints it." }),
    createdAt: instant,
  })
  .meta({ id: "SshKey" });
export const sshKeyList = z.object({ data: z.array(sshKey) }).meta({ id: "SshKeyList" });

export const runtimeInstall = z
  .object({
    runtimeId: z.string(),
    state: z.enum(installState.enumValues),
    version: z.string().nullable(),
    phase: z.string().nullable(),
    progress: z.number().nullable().meta({ description: "0..1 while compiling; null when the step has no measure." }),
    message: z.string().nullable(),
    binaryPath: z.string().nullable(),
    error: z.string().nullable(),
    startedAt: instant,
    finishedAt: instant.nullable(),
  })
  .meta({ id: "RuntimeInstall" });
export const runtime = z
  .object({
    id: z.string(),
    name: z.string(),
    image: z.string(),
    tasks: z.array(z.enum(["chat", "completion", "embeddings"])),
    formats: z.array(z.enum(["safetensors", "gguf"])),
    localBinary: z.string().nullable(),
    binaryPath: z.string().nullable().meta({ description: "Where the real binary is on the platform's machine; null: pods run the reference runtime." }),
    servedBy: z.string().meta({ description: "What pods of this runtime run on the local provider right now." }),
    installable: z.boolean().meta({ description: "Whether the platform can build it (POST /v1/runtimes/{id}/install)." }),
    install: runtimeInstall.nullable(),
  })
  .meta({ id: "Runtime" });
export const runtimeList = z.object({ data: z.array(runtime) }).meta({ id: "RuntimeList" });

export const auditEvent = z
  .object({
    id: z.int(),
    at: instant,
    actor: z.object({
      kind: z.enum(auditActorKind.enumValues),
      id: z.string().nullable(),
      label: z.string().nullable().meta({ description: "An email, an API key's prefix or a schedule rule's id." }),
      scope: z.string().nullable().meta({ description: "An API key's scope when it acted." }),
    }),
    request_id: z.string().nullable(),
    kind: z.enum(auditKinds),
    subject_id: z.string().nullable(),
    changes: auditChanges.meta({ description: "The fields before and after; never a secret." }),
  })
  .meta({ id: "AuditEvent" });
export const auditPage = z.object({ data: z.array(auditEvent), next_cursor: nextCursor }).meta({ id: "AuditPage" });

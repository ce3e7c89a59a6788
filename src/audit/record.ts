import { type SQL, sql } from "drizzle-orm";
import { auditEvents } from "../../db/schema";
import type { AccountContext } from "../context";
import type { AuditActorKind, AuditChanges, AuditKind } from "./schemas";

/** Who acts, as the trail names them: an account context's actor, less the session it came through. */
export type AuditActor = { kind: "user"; userId: string } | { kind: "apiKey"; keyId: string } | { kind: "schedule"; ruleId: string } | { kind: "system" };

/** Where the change happened and who made it: an account context, or its parts where a verb has none (sign-in, a credit). */
export interface AuditScope extends Pick<AccountContext, "db" | "accountId" | "requestId"> {
  actor: AuditActor;
}

export interface AuditEntry {
  kind: AuditKind;
  /** The instance, key, member, firewall, rule or checkout the change was about; omitted for the account itself. */
  subjectId?: string | null;
  changes?: AuditChanges;
}

/** The platform, acting on its own (a budget or grace stop, a credit confirmed by the gateway). */
export const systemActor: AuditActor = { kind: "system" };

/** Field names that hold, or may hold, a secret: never written, whatever a caller passes. */
const SECRET_FIELD = /secret|token|password|hash|authorization/i;

/**
 * The one writer of `audit_events`. Call it with the change's own transaction (`{ ...ctx, db: tx }`), so a
 * change that rolls back leaves no row. The actor's email, key prefix and scope are read in the same insert,
 * as they are at this moment: the trail says who it was then, even after a key is revoked or a member leaves.
 */
export async function recordAudit(scope: AuditScope, entry: AuditEntry): Promise<void> {
  const actor = actorColumns(scope.actor);
  await scope.db.insert(auditEvents).values({
    accountId: scope.accountId,
    ...actor,
    requestId: scope.requestId ?? null,
    kind: entry.kind,
    subjectId: entry.subjectId ?? null,
    changes: withoutSecrets(entry.changes ?? {}),
  });
}

interface ActorColumns {
  actorKind: AuditActorKind;
  actorId: string | null;
  actorLabel: SQL | string | null;
  actorScope: SQL | null;
}

function actorColumns(actor: AuditActor): ActorColumns {
  switch (actor.kind) {
    case "user":
      return { actorKind: "user", actorId: actor.userId, actorLabel: sql`(select email from users where id = ${actor.userId})`, actorScope: null };
    case "apiKey":
      return {
        actorKind: "api_key",
        actorId: actor.keyId,
        actorLabel: sql`(select prefix from api_keys where id = ${actor.keyId})`,
        actorScope: sql`(select scope::text from api_keys where id = ${actor.keyId})`,
      };
    case "schedule":
      return { actorKind: "schedule", actorId: actor.ruleId, actorLabel: actor.ruleId, actorScope: null };
    case "system":
      return { actorKind: "system", actorId: null, actorLabel: null, actorScope: null };
  }
}

function withoutSecrets(changes: AuditChanges): AuditChanges {
  const clean = (fields?: Record<string, unknown>) =>
    fields && (Object.fromEntries(Object.entries(fields).filter(([name]) => !SECRET_FIELD.test(name))) as AuditChanges["after"]);
  return { ...(changes.before && { before: clean(changes.before) }), ...(changes.after && { after: clean(changes.after) }) };
}

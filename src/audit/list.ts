import { and, desc, eq, lt, type SQL, sql } from "drizzle-orm";
import { apiKeys, auditEvents } from "../../db/schema";
import type { AccountContext } from "../context";
import { InvalidInputError } from "../errors";
import { type AuditActorKind, type AuditChanges, type AuditKind, type AuditListInput, auditListInput } from "./schemas";

export interface AuditEvent {
  id: number;
  at: Date;
  actor: { kind: AuditActorKind; id: string | null; label: string | null; scope: string | null };
  requestId: string | null;
  kind: AuditKind;
  subjectId: string | null;
  changes: AuditChanges;
}

export interface AuditPage {
  events: AuditEvent[];
  nextCursor: string | null;
}

/**
 * The account's trail, newest first, keyset-paged on id. Owners see every row. A member sees what they did
 * themselves and what the API keys they made did: the trail of others' actions (and of the platform's) is the
 * owners'. An API key sees what its maker would as a member (a key acts with a member's rights, whoever made it).
 */
export async function listAudit(ctx: AccountContext, query: AuditListInput): Promise<AuditPage> {
  const input = auditListInput.parse(query);
  const before = input.cursor ? Number(input.cursor) : null;
  if (input.cursor && (!Number.isSafeInteger(before) || before! <= 0))
    throw new InvalidInputError("This cursor is not one the audit trail gave out.", "cursor");
  const rows = await ctx.db
    .select()
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.accountId, ctx.accountId),
        await visibleTo(ctx),
        input.actor ? actorMatches(input.actor) : undefined,
        input.kind ? kindMatches(input.kind) : undefined,
        before ? lt(auditEvents.id, before) : undefined,
      ),
    )
    .orderBy(desc(auditEvents.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit).map(toEvent);
  return { events: page, nextCursor: rows.length > input.limit ? String(page.at(-1)!.id) : null };
}

/** The actors the caller may filter by (those in the rows they can see), for the Activity filter. */
export async function auditActors(ctx: AccountContext): Promise<{ kind: AuditActorKind; label: string | null }[]> {
  return ctx.db
    .selectDistinct({ kind: auditEvents.actorKind, label: auditEvents.actorLabel })
    .from(auditEvents)
    .where(and(eq(auditEvents.accountId, ctx.accountId), await visibleTo(ctx)))
    .orderBy(auditEvents.actorKind, auditEvents.actorLabel)
    .limit(200);
}

/** Null (everything) for an owner; otherwise the person's own rows and their keys'. */
async function visibleTo(ctx: AccountContext): Promise<SQL | undefined> {
  if (ctx.role === "owner" && ctx.actor.kind === "user") return undefined;
  let userId: string | null = null;
  if (ctx.actor.kind === "user") userId = ctx.actor.userId;
  else if (ctx.actor.kind === "apiKey") {
    const [key] = await ctx.db.select({ createdBy: apiKeys.createdBy }).from(apiKeys).where(eq(apiKeys.id, ctx.actor.keyId));
    userId = key?.createdBy ?? null;
    if (!userId) return and(eq(auditEvents.actorKind, "api_key"), eq(auditEvents.actorId, ctx.actor.keyId));
  }
  if (!userId) return sql`false`;
  return sql`((${auditEvents.actorKind} = 'user' and ${auditEvents.actorId} = ${userId})
    or (${auditEvents.actorKind} = 'api_key' and ${auditEvents.actorId} in
      (select id from api_keys where account_id = ${ctx.accountId} and created_by = ${userId})))`;
}

/** An email (any case), a key's prefix, a rule or user id, or an actor kind (`system`, `schedule`). */
function actorMatches(actor: string): SQL {
  return sql`(lower(${auditEvents.actorLabel}) = lower(${actor}) or ${auditEvents.actorId} = ${actor} or ${auditEvents.actorKind}::text = ${actor})`;
}

function kindMatches(kind: string): SQL {
  return kind.includes(".") ? sql`${auditEvents.kind} = ${kind}` : sql`${auditEvents.kind}::text like ${`${kind}.%`}`;
}

function toEvent(row: typeof auditEvents.$inferSelect): AuditEvent {
  return {
    id: row.id,
    at: row.at,
    actor: { kind: row.actorKind, id: row.actorId, label: row.actorLabel, scope: row.actorScope },
    requestId: row.requestId,
    kind: row.kind,
    subjectId: row.subjectId,
    changes: row.changes as AuditChanges,
  };
}

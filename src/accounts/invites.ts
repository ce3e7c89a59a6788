import { and, desc, eq, gt, isNull, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { accounts, invites, memberships, users } from "../../db/schema";
import { recordAudit } from "../audit/record";
import { newSecret, sha256Hex } from "../auth/secrets";
import { type AccountContext, withTransaction } from "../context";
import { ConflictError, DomainError, NotFoundError } from "../errors";
import { newId } from "../ids";
import { requireOwner, requireUser } from "./owners";
import type { CreateInviteInput } from "./schemas";

const INVALID_LINK = "This invite link is not valid, was revoked or has expired.";

/** An invite is a link; no mail is sent, the owner passes the link on. */
export async function createInvite(ctx: AccountContext, input: CreateInviteInput, ttlDays: number) {
  requireOwner(ctx);
  const createdBy = requireUser(ctx);
  const token = newSecret("qdzi_");
  const invite = await withTransaction(ctx.db, async (tx) => {
    const [row] = await tx
      .insert(invites)
      .values({
        id: newId("invite"),
        accountId: ctx.accountId,
        tokenHash: sha256Hex(token),
        role: input.role,
        email: input.email ?? null,
        createdBy,
        expiresAt: new Date(Date.now() + ttlDays * 86_400_000),
      })
      .returning();
    await recordAudit({ ...ctx, db: tx }, { kind: "member.invited", subjectId: row!.id, changes: { after: { role: row!.role, email: row!.email } } });
    return row!;
  });
  return { invite: publicInvite(invite), token };
}

/** Invites still waiting to be accepted. */
export async function listPendingInvites(ctx: AccountContext) {
  requireOwner(ctx);
  const rows = await ctx.db
    .select()
    .from(invites)
    .where(and(eq(invites.accountId, ctx.accountId), pending()))
    .orderBy(desc(invites.createdAt));
  return rows.map(publicInvite);
}

export async function revokeInvite(ctx: AccountContext, inviteId: string) {
  requireOwner(ctx);
  await withTransaction(ctx.db, async (tx) => {
    const [revoked] = await tx
      .update(invites)
      .set({ revokedAt: new Date() })
      .where(and(eq(invites.id, inviteId), eq(invites.accountId, ctx.accountId), pending()))
      .returning({ role: invites.role, email: invites.email });
    if (!revoked) throw new NotFoundError("Invite", inviteId);
    await recordAudit({ ...ctx, db: tx }, { kind: "member.invite_revoked", subjectId: inviteId, changes: { before: revoked } });
  });
}

/** What the link's page shows before someone accepts: the account and who invited them. */
export async function previewInvite(db: Executor, token: string) {
  const [row] = await db
    .select({ accountName: accounts.name, role: invites.role, invitedBy: users.email, expiresAt: invites.expiresAt })
    .from(invites)
    .innerJoin(accounts, eq(accounts.id, invites.accountId))
    .innerJoin(users, eq(users.id, invites.createdBy))
    .where(and(eq(invites.tokenHash, sha256Hex(token)), pending()));
  if (!row) throw new DomainError("NOT_FOUND", INVALID_LINK);
  return row;
}

/** Adds the user to the invite's account; an invite is used once. */
export async function acceptInvite(db: Executor, userId: string, token: string, requestId?: string) {
  return withTransaction(db, async (tx) => {
    const [invite] = await tx
      .select()
      .from(invites)
      .where(and(eq(invites.tokenHash, sha256Hex(token)), pending()))
      .for("update");
    if (!invite) throw new DomainError("NOT_FOUND", INVALID_LINK);
    const [existing] = await tx
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.accountId, invite.accountId), eq(memberships.userId, userId)));
    if (existing) throw new ConflictError("You are already a member of this account.");
    await tx.insert(memberships).values({ accountId: invite.accountId, userId, role: invite.role });
    await tx.update(invites).set({ acceptedAt: new Date(), acceptedBy: userId }).where(eq(invites.id, invite.id));
    const joined = { db: tx, accountId: invite.accountId, actor: { kind: "user", userId } as const, requestId };
    await recordAudit(joined, { kind: "member.joined", subjectId: userId, changes: { after: { role: invite.role, inviteId: invite.id } } });
    return { accountId: invite.accountId, role: invite.role };
  });
}

function pending() {
  return and(isNull(invites.acceptedAt), isNull(invites.revokedAt), gt(invites.expiresAt, sql`now()`));
}

function publicInvite(row: typeof invites.$inferSelect) {
  return { id: row.id, role: row.role, email: row.email, createdAt: row.createdAt, expiresAt: row.expiresAt };
}

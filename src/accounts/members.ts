import { and, asc, count, eq, ne } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { accounts, memberships, users } from "../../db/schema";
import { revokeKeysCreatedBy } from "../api-keys/keys";
import { recordAudit } from "../audit/record";
import { type AccountContext, type Role, withTransaction } from "../context";
import { ConflictError, NotFoundError } from "../errors";
import { requireOwner } from "./owners";

export async function listMembers(ctx: AccountContext) {
  return ctx.db
    .select({ userId: users.id, email: users.email, role: memberships.role, joinedAt: memberships.createdAt })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.accountId, ctx.accountId))
    .orderBy(asc(memberships.createdAt));
}

export async function removeMember(ctx: AccountContext, userId: string) {
  requireOwner(ctx);
  await changeMembership(ctx, userId, null, "member.removed");
}

export async function setMemberRole(ctx: AccountContext, userId: string, role: Role) {
  requireOwner(ctx);
  await changeMembership(ctx, userId, role, "member.role_changed");
}

/** Any member may leave, except the last owner (the account would be ownerless) and someone with no other account to sign in to. */
export async function leaveAccount(ctx: AccountContext, userId: string) {
  const [others] = await ctx.db
    .select({ n: count() })
    .from(memberships)
    .where(and(eq(memberships.userId, userId), ne(memberships.accountId, ctx.accountId)));
  if (!others?.n) throw new ConflictError("This is your only account: you would have nowhere to sign in to. Ask an owner to remove you instead.");
  await changeMembership(ctx, userId, null, "member.left");
}

/**
 * Sets a member's role, or removes them with null; an account always keeps an owner.
 * Removal revokes the keys they made here in the same transaction, so no key outlives its maker's access.
 */
async function changeMembership(ctx: AccountContext, userId: string, role: Role | null, kind: "member.removed" | "member.left" | "member.role_changed") {
  await withTransaction(ctx.db, async (tx) => {
    // Lock the account's memberships so two owners demoting each other cannot both win.
    const rows = await tx
      .select({ userId: memberships.userId, role: memberships.role, email: users.email })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(eq(memberships.accountId, ctx.accountId))
      .for("update", { of: memberships });
    const target = rows.find((row) => row.userId === userId);
    if (!target) throw new NotFoundError("Member", userId);
    const owners = rows.filter((row) => row.role === "owner").length;
    if (target.role === "owner" && role !== "owner" && owners === 1) {
      throw new ConflictError("An account needs at least one owner. Make someone else an owner first.");
    }
    const where = and(eq(memberships.accountId, ctx.accountId), eq(memberships.userId, userId));
    let revokedKeys = 0;
    if (role === null) {
      await tx.delete(memberships).where(where);
      revokedKeys = await revokeKeysCreatedBy(tx, ctx.accountId, userId);
    } else await tx.update(memberships).set({ role }).where(where);
    const after = role === null ? { member: false, revokedKeys } : { role };
    await recordAudit({ ...ctx, db: tx }, { kind, subjectId: userId, changes: { before: { email: target.email, role: target.role }, after } });
  });
}

/** The accounts a user belongs to, for the account switcher. */
export async function listUserAccounts(db: Executor, userId: string) {
  return db
    .select({ id: accounts.id, name: accounts.name, role: memberships.role })
    .from(memberships)
    .innerJoin(accounts, eq(accounts.id, memberships.accountId))
    .where(eq(memberships.userId, userId))
    .orderBy(asc(memberships.createdAt));
}

export async function renameAccount(ctx: AccountContext, name: string) {
  requireOwner(ctx, "rename the account");
  await withTransaction(ctx.db, async (tx) => {
    const [before] = await tx.select({ name: accounts.name }).from(accounts).where(eq(accounts.id, ctx.accountId)).for("update");
    await tx.update(accounts).set({ name }).where(eq(accounts.id, ctx.accountId));
    await recordAudit(
      { ...ctx, db: tx },
      { kind: "account.renamed", subjectId: ctx.accountId, changes: { before: { name: before?.name ?? null }, after: { name } } },
    );
  });
}

export async function getAccount(ctx: AccountContext) {
  const [account] = await ctx.db.select().from(accounts).where(eq(accounts.id, ctx.accountId));
  const [members] = await ctx.db.select({ n: count() }).from(memberships).where(eq(memberships.accountId, ctx.accountId));
  if (!account) throw new NotFoundError("Account", ctx.accountId);
  return { ...account, memberCount: members?.n ?? 0 };
}

import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { apiKeys, invites } from "../../db/schema";
import { createApp } from "../../server/app";
import { freshDatabase } from "../support/db";
import { expectTrpcError } from "../support/errors";
import { newUser, testConfig, trpc } from "../support/factories";

const { db } = await freshDatabase();

/** An owner, and a second user who joined the owner's account through an invite link. */
async function team() {
  const owner = await newUser(db);
  const member = await newUser(db);
  const invite = await (await trpc(db, owner.sessionToken)).account.createInvite({ role: "member" });
  await (await trpc(db, member.sessionToken)).account.acceptInvite({ token: invite.token });
  return { owner, member, asOwner: await trpc(db, owner.sessionToken), asMember: await trpc(db, member.sessionToken) };
}

describe("invites", () => {
  test("the owner gets a link; its page shows the account and who invited", async () => {
    const owner = await newUser(db, "owner-a@example.com");
    const invite = await (await trpc(db, owner.sessionToken)).account.createInvite({ role: "member", email: "friend@example.com" });
    expect(invite.url).toBe(`http://localhost:3000/invite/${invite.token}`);
    const preview = await (await trpc(db)).account.previewInvite({ token: invite.token });
    expect(preview).toMatchObject({ accountName: "owner-a's account", role: "member", invitedBy: "owner-a@example.com" });
  });

  test("an accepted invite makes the user a member, acting in that account", async () => {
    const { owner, member, asMember } = await team();
    const me = await asMember.auth.me();
    expect(me).toMatchObject({ accountId: owner.accountId, role: "member" });
    expect(me!.accounts.map((a) => a.id).sort()).toEqual([owner.accountId, member.accountId].sort());
  });

  test("a member sees and uses the account's resources", async () => {
    const { asOwner, asMember } = await team();
    const created = await asOwner.apiKeys.create({ name: "shared" });
    expect((await asMember.apiKeys.list()).map((k) => k.id)).toContain(created.key.id);
    const own = await asMember.apiKeys.create({ name: "member's" });
    expect((await asOwner.apiKeys.list()).map((k) => k.id)).toContain(own.key.id);
  });

  test("a link works once", async () => {
    const owner = await newUser(db);
    const invite = await (await trpc(db, owner.sessionToken)).account.createInvite({ role: "member" });
    await (await trpc(db, (await newUser(db)).sessionToken)).account.acceptInvite({ token: invite.token });
    const error = await expectTrpcError((await trpc(db, (await newUser(db)).sessionToken)).account.acceptInvite({ token: invite.token }), "NOT_FOUND");
    expect(error.message).toContain("not valid, was revoked or has expired");
  });

  test("revoked and expired links are refused", async () => {
    const owner = await newUser(db);
    const asOwner = await trpc(db, owner.sessionToken);
    const revoked = await asOwner.account.createInvite({ role: "member" });
    await asOwner.account.revokeInvite({ id: revoked.id });
    const expired = await asOwner.account.createInvite({ role: "member" });
    await db
      .update(invites)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(invites.id, expired.id));
    const stranger = await trpc(db, (await newUser(db)).sessionToken);
    await expectTrpcError(stranger.account.acceptInvite({ token: revoked.token }), "NOT_FOUND");
    await expectTrpcError(stranger.account.acceptInvite({ token: expired.token }), "NOT_FOUND");
    expect(await asOwner.account.invites()).toEqual([]);
  });

  test("accepting into an account one already belongs to is a conflict", async () => {
    const { asOwner, member } = await team();
    const again = await asOwner.account.createInvite({ role: "owner" });
    await expectTrpcError((await trpc(db, member.sessionToken)).account.acceptInvite({ token: again.token }), "CONFLICT");
  });

  test("a malformed token is a clear bad request", async () => {
    const error = await expectTrpcError((await trpc(db)).account.previewInvite({ token: "nope" }), "BAD_REQUEST");
    expect(error.message).toContain("This invite link is not valid.");
  });
});

describe("roles", () => {
  test("only an owner invites, changes roles and removes members", async () => {
    const { owner, asMember } = await team();
    for (const attempt of [
      asMember.account.createInvite({ role: "member" }),
      asMember.account.invites(),
      asMember.account.setRole({ userId: owner.userId, role: "member" }),
      asMember.account.removeMember({ userId: owner.userId }),
      asMember.account.rename({ name: "mine now" }),
    ]) {
      const error = await expectTrpcError(attempt, "FORBIDDEN");
      expect(error.message).toStartWith("Only an account owner can");
    }
  });

  test("an owner removes a member, who then acts in their own account again", async () => {
    const { owner, member, asOwner, asMember } = await team();
    await asOwner.account.removeMember({ userId: member.userId });
    expect((await asOwner.account.members()).map((m) => m.userId)).toEqual([owner.userId]);
    expect(await (await trpc(db, member.sessionToken)).auth.me()).toMatchObject({ accountId: member.accountId, role: "owner" });
    expect((await asMember.apiKeys.list()).length).toBe(0);
  });

  test("an account always keeps an owner", async () => {
    const { owner, member, asOwner } = await team();
    const error = await expectTrpcError(asOwner.account.setRole({ userId: owner.userId, role: "member" }), "CONFLICT");
    expect(error.message).toContain("at least one owner");
    await expectTrpcError(asOwner.account.leave(), "CONFLICT");
    await asOwner.account.setRole({ userId: member.userId, role: "owner" });
    // The first owner joins another account, so leaving this one leaves them somewhere to sign in.
    const elsewhere = await newUser(db);
    const link = await (await trpc(db, elsewhere.sessionToken)).account.createInvite({ role: "member" });
    await asOwner.account.acceptInvite({ token: link.token });
    await asOwner.auth.switchAccount({ accountId: owner.accountId });
    await asOwner.account.leave();
    expect((await (await trpc(db, member.sessionToken)).account.members()).map((m) => m.role)).toEqual(["owner"]);
  });

  test("nobody leaves their only account: they would have nowhere to sign in", async () => {
    const loner = await newUser(db);
    const error = await expectTrpcError((await trpc(db, loner.sessionToken)).account.leave(), "CONFLICT");
    expect(error.message).toContain("only account");
  });

  test("a member can leave", async () => {
    const { member, asMember, asOwner } = await team();
    await asMember.account.leave();
    expect((await asOwner.account.members()).map((m) => m.userId)).not.toContain(member.userId);
  });
});

describe("removal ends access", () => {
  // One app for the file: its /v1 cache keeps a key once seen, so only the revocation's NOTIFY can drop it in time.
  const app = createApp({ db, config: testConfig });
  const get = (path: string, token: string) => app.handle(new Request(`http://localhost:3000${path}`, { headers: { authorization: `Bearer ${token}` } }));
  const surfaces = ["/trpc/account.get", "/billing/balance", "/v1/models"];

  /** Polls `path` until it answers `status`, for at most a second (the /v1 cache's TTL is 30 s). */
  async function answersWithin(path: string, token: string, status: number) {
    const deadline = Date.now() + 1000;
    let last = 0;
    while (Date.now() < deadline) {
      last = (await get(path, token)).status;
      if (last === status) return;
      await Bun.sleep(20);
    }
    throw new Error(`${path} still answers ${last}, not ${status}, a second later`);
  }

  /** A team where the member and the owner each made a key in the owner's account, both working everywhere. */
  async function teamWithKeys() {
    const members = await team();
    const theirs = await members.asMember.apiKeys.create({ name: "member's", scope: "full" });
    const owners = await members.asOwner.apiKeys.create({ name: "owner's", scope: "full" });
    for (const path of surfaces) {
      expect((await get(path, theirs.secret)).status).toBe(200);
      expect((await get(path, owners.secret)).status).toBe(200);
    }
    return { ...members, theirs, owners };
  }

  async function revokedAt(keyId: string) {
    return (await db.select({ revokedAt: apiKeys.revokedAt }).from(apiKeys).where(eq(apiKeys.id, keyId)))[0]!.revokedAt;
  }

  test("removing a member revokes the keys they made there: 401 at once on tRPC, billing REST and /v1", async () => {
    const { member, asOwner, theirs, owners } = await teamWithKeys();
    await asOwner.account.removeMember({ userId: member.userId });
    for (const path of surfaces) await answersWithin(path, theirs.secret, 401);
    expect(await revokedAt(theirs.key.id)).toBeInstanceOf(Date);
    // The owner's key is theirs, not the member's: it keeps working.
    for (const path of surfaces) expect((await get(path, owners.secret)).status).toBe(200);
    expect(await revokedAt(owners.key.id)).toBeNull();
  });

  test("leaving revokes the keys one made in that account", async () => {
    const { asMember, theirs, owners } = await teamWithKeys();
    await asMember.account.leave();
    for (const path of surfaces) await answersWithin(path, theirs.secret, 401);
    expect(await revokedAt(owners.key.id)).toBeNull();
  });

  test("a removed member's session stops acting in the account on the next request", async () => {
    const { owner, member, asOwner, owners } = await teamWithKeys();
    expect((await (await trpc(db, member.sessionToken)).account.get()).id).toBe(owner.accountId);
    await asOwner.account.removeMember({ userId: member.userId });
    // Membership is checked on every request: the session falls back to the member's own account.
    const after = await trpc(db, member.sessionToken);
    expect((await after.account.get()).id).toBe(member.accountId);
    await expectTrpcError(after.apiKeys.revoke({ id: owners.key.id }), "NOT_FOUND");
    expect(await revokedAt(owners.key.id)).toBeNull();
  });

  test("an API key cannot remove members, change roles or invite", async () => {
    const { owner, member, owners } = await teamWithKeys();
    const asKey = await trpc(db, owners.secret);
    for (const attempt of [
      asKey.account.removeMember({ userId: member.userId }),
      asKey.account.setRole({ userId: member.userId, role: "owner" }),
      asKey.account.createInvite({ role: "member" }),
    ]) {
      expect((await expectTrpcError(attempt, "FORBIDDEN")).message).toBe("This needs a signed-in person, not an API key.");
    }
    expect((await (await trpc(db, owner.sessionToken)).account.members()).map((m) => m.userId).sort()).toEqual([owner.userId, member.userId].sort());
  });
});

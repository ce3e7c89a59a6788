import { z } from "zod";
import { acceptInvite, createInvite, listPendingInvites, previewInvite, revokeInvite } from "../../accounts/invites";
import { getAccount, leaveAccount, listMembers, removeMember, renameAccount, setMemberRole } from "../../accounts/members";
import { accountName, createInviteInput, inviteToken, role } from "../../accounts/schemas";
import { switchAccount } from "../../accounts/sessions";
import { inviteLink } from "../../public-links";
import { safeString } from "../../validation";
import { accountProcedure, publicProcedure, router, userProcedure } from "../init";

const userId = z.object({ userId: safeString().min(1).max(64) });

export const accountRouter = router({
  get: accountProcedure.query(({ ctx }) => getAccount(ctx.account)),
  rename: accountProcedure.input(z.object({ name: accountName })).mutation(async ({ ctx, input }) => {
    await renameAccount(ctx.account, input.name);
    return { ok: true };
  }),

  members: accountProcedure.query(({ ctx }) => listMembers(ctx.account)),
  removeMember: userProcedure.input(userId).mutation(async ({ ctx, input }) => {
    await removeMember(ctx.account, input.userId);
    return { ok: true };
  }),
  setRole: userProcedure.input(userId.extend({ role })).mutation(async ({ ctx, input }) => {
    await setMemberRole(ctx.account, input.userId, input.role);
    return { ok: true };
  }),
  leave: userProcedure.mutation(async ({ ctx }) => {
    await leaveAccount(ctx.account, ctx.user.userId);
    return { ok: true };
  }),

  createInvite: userProcedure.input(createInviteInput).mutation(async ({ ctx, input }) => {
    const { invite, token } = await createInvite(ctx.account, input, ctx.config.INVITE_TTL_DAYS);
    return { ...invite, token, url: inviteLink(ctx.config.PUBLIC_URL, token) };
  }),
  invites: userProcedure.query(({ ctx }) => listPendingInvites(ctx.account)),
  revokeInvite: userProcedure.input(z.object({ id: safeString().min(1).max(64) })).mutation(async ({ ctx, input }) => {
    await revokeInvite(ctx.account, input.id);
    return { ok: true };
  }),

  /** Public: the invite page shows what the link is for before anyone signs in. */
  previewInvite: publicProcedure.input(z.object({ token: inviteToken })).query(({ ctx, input }) => previewInvite(ctx.db, input.token)),
  acceptInvite: userProcedure.input(z.object({ token: inviteToken })).mutation(async ({ ctx, input }) => {
    const joined = await acceptInvite(ctx.db, ctx.user.userId, input.token, ctx.requestId);
    await switchAccount(ctx.db, ctx.user, joined.accountId);
    return joined;
  }),
});

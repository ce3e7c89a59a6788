import { listNotifications, markRead } from "../../notifications/list";
import { unreadCount } from "../../notifications/notify";
import { markReadInput, notificationListInput } from "../../spend/schemas";
import { accountProcedure, router } from "../init";

export const notificationsRouter = router({
  list: accountProcedure.input(notificationListInput).query(({ ctx, input }) => listNotifications(ctx.account, input)),
  /** The bell's number, polled: one indexed count. */
  unread: accountProcedure.query(async ({ ctx }) => ({ unread: await unreadCount(ctx.db, ctx.account.accountId) })),
  markRead: accountProcedure.input(markReadInput).mutation(async ({ ctx, input }) => ({ unread: await markRead(ctx.account, input) })),
});

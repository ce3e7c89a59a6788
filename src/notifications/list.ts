import { and, desc, eq, inArray, isNull, sql } from "drizzle-orm";
import { notifications } from "../../db/schema";
import type { AccountContext } from "../context";
import { decodeCursor, encodeCursor, olderThan, positionOf } from "../pagination";
import type { Notification } from "./notify";
import { unreadCount } from "./notify";

export interface NotificationPage {
  notifications: Notification[];
  unread: number;
  nextCursor: string | null;
}

/** Microsecond positions (src/pagination.ts): alerts raised in one tick share a `now()`. */
const positionSql = positionOf(notifications.createdAt);

/** The account's alerts, newest first, in keyset pages; with the unread count the bell shows. */
export async function listNotifications(
  ctx: AccountContext,
  query: { limit: number; cursor?: string | null; unreadOnly?: boolean },
): Promise<NotificationPage> {
  const after = query.cursor ? decodeCursor(query.cursor, "the notification list") : null;
  const rows = await ctx.db
    .select({ notification: notifications, position: positionSql })
    .from(notifications)
    .where(
      and(
        eq(notifications.accountId, ctx.accountId),
        query.unreadOnly ? isNull(notifications.readAt) : undefined,
        after ? olderThan(notifications.createdAt, notifications.id, after) : undefined,
      ),
    )
    .orderBy(desc(notifications.createdAt), desc(notifications.id))
    .limit(query.limit + 1);
  const last = rows.length > query.limit ? rows[query.limit - 1] : undefined;
  return {
    notifications: rows.slice(0, query.limit).map((row) => row.notification),
    unread: await unreadCount(ctx.db, ctx.accountId),
    nextCursor: last ? encodeCursor(last.position, last.notification.id) : null,
  };
}

/** Marks the given alerts (or all) read; ids of another account's alerts change nothing. Returns the unread count left. */
export async function markRead(ctx: AccountContext, input: { ids: string[] } | { all: true }): Promise<number> {
  await ctx.db
    .update(notifications)
    .set({ readAt: sql`now()` })
    .where(and(eq(notifications.accountId, ctx.accountId), isNull(notifications.readAt), "ids" in input ? inArray(notifications.id, input.ids) : undefined));
  return unreadCount(ctx.db, ctx.accountId);
}

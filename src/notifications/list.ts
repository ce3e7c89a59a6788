import { and, desc, eq, inArray, isNull, sql } from "drizzle-orm";
import { notifications } from "../../db/schema";
import type { AccountContext } from "../context";
import { InvalidInputError } from "../errors";
import type { Notification } from "./notify";
import { unreadCount } from "./notify";

export interface NotificationPage {
  notifications: Notification[];
  unread: number;
  nextCursor: string | null;
}

/** Microsecond positions, as the ledger's pages (src/billing/ledger.ts): alerts raised in one tick share a `now()`. */
const positionSql = sql<string>`to_char(${notifications.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const POSITION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** The account's alerts, newest first, in keyset pages; with the unread count the bell shows. */
export async function listNotifications(
  ctx: AccountContext,
  query: { limit: number; cursor?: string | null; unreadOnly?: boolean },
): Promise<NotificationPage> {
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  const rows = await ctx.db
    .select({ notification: notifications, position: positionSql })
    .from(notifications)
    .where(
      and(
        eq(notifications.accountId, ctx.accountId),
        query.unreadOnly ? isNull(notifications.readAt) : undefined,
        after ? sql`(${notifications.createdAt}, ${notifications.id}) < (${after.position}::timestamptz, ${after.id})` : undefined,
      ),
    )
    .orderBy(desc(notifications.createdAt), desc(notifications.id))
    .limit(query.limit + 1);
  const last = rows.length > query.limit ? rows[query.limit - 1] : undefined;
  return {
    notifications: rows.slice(0, query.limit).map((row) => row.notification),
    unread: await unreadCount(ctx.db, ctx.accountId),
    nextCursor: last ? Buffer.from(JSON.stringify([last.position, last.notification.id])).toString("base64url") : null,
  };
}

function decodeCursor(cursor: string): { position: string; id: string } {
  try {
    const [position, id] = JSON.parse(Buffer.from(cursor, "base64url").toString());
    if (typeof position !== "string" || !POSITION.test(position) || Number.isNaN(Date.parse(position)) || typeof id !== "string") throw new Error();
    return { position, id };
  } catch {
    throw new InvalidInputError("This cursor is not one the notification list gave out.", "cursor");
  }
}

/** Marks the given alerts (or all) read; ids of another account's alerts change nothing. Returns the unread count left. */
export async function markRead(ctx: AccountContext, input: { ids: string[] } | { all: true }): Promise<number> {
  await ctx.db
    .update(notifications)
    .set({ readAt: sql`now()` })
    .where(and(eq(notifications.accountId, ctx.accountId), isNull(notifications.readAt), "ids" in input ? inArray(notifications.id, input.ids) : undefined));
  return unreadCount(ctx.db, ctx.accountId);
}

import { sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { type notificationKind, notifications } from "../../db/schema";
import { withTransaction } from "../context";
import { newId } from "../ids";
import type { JobQueue } from "../jobs/queue";
import { queueDelivery } from "../webhooks/deliveries";

export type NotificationKind = (typeof notificationKind.enumValues)[number];
export type Notification = typeof notifications.$inferSelect;
export type Severity = Notification["severity"];

/** One alert, as the watcher, settlement or a run's end raise it. */
export interface Alert {
  kind: NotificationKind;
  /**
   * What makes it happen once: `budget:<budget>:<month>:<cents>:<percent>`, `runway:<level>:<episode>`,
   * `grace:<started_at>`, `refund:<run>`, `failed:<run>`. A second alert with the same key does nothing.
   */
  dedupKey: string;
  severity: Severity;
  title: string;
  body: string;
  instanceId?: string | null;
  data: Record<string, unknown>;
}

/**
 * Raises an alert in the account's list and, when the account has a webhook endpoint, queues its delivery,
 * in one transaction (the caller's, when it is in one: an alert commits with what caused it or not at all).
 * Returns null when the same alert was already raised.
 */
export async function notify(db: Executor, jobs: JobQueue, accountId: string, alert: Alert): Promise<Notification | null> {
  return withTransaction(db, async (tx) => {
    const [row] = await tx
      .insert(notifications)
      .values({ id: newId("notification"), accountId, ...alert, instanceId: alert.instanceId ?? null })
      .onConflictDoNothing({ target: [notifications.accountId, notifications.dedupKey] })
      .returning();
    if (!row) return null;
    await queueDelivery(tx, jobs, row);
    return row;
  });
}

/** How many alerts the account has not read: the bell's number. */
export async function unreadCount(db: Executor, accountId: string): Promise<number> {
  const [row] = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from ${notifications} where ${notifications.accountId} = ${accountId} and ${notifications.readAt} is null`,
  );
  return row?.n ?? 0;
}

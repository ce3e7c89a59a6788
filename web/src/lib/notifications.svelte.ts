import { CircleAlert, Info, TriangleAlert } from "@lucide/svelte";
import type { Outputs } from "./trpc";

export type NotificationItem = Outputs["notifications"]["list"]["notifications"][number];

/** Alerts per page on the Notifications page. */
export const NOTIFICATIONS_PAGE = 25;

/**
 * The account's unread count, one value for the whole app: the bell polls it, and whatever marks alerts
 * read (the bell, the Notifications page) writes back the count the api answers with.
 */
export const unreadAlerts = $state({ count: 0 });

/** How each severity looks; the label is read out where the icon alone would say nothing. */
export const severities = {
  info: { icon: Info, label: "Info", tone: "bg-info/10 text-info" },
  warning: { icon: TriangleAlert, label: "Warning", tone: "bg-warning/20 text-warning-content" },
  critical: { icon: CircleAlert, label: "Critical", tone: "bg-error/10 text-error" },
} as const;

/** The bell's badge: the count, capped so the badge stays a badge. */
export function badgeCount(count: number): string {
  return count > 99 ? "99+" : String(count);
}

/** Where an alert leads: a budget alert to the instance's budget (in its Settings), any other to the instance. */
export function alertHref(notification: Pick<NotificationItem, "instanceId" | "kind">): string | null {
  if (!notification.instanceId) return null;
  return notification.kind === "budget" ? `/instances/${notification.instanceId}?tab=settings` : `/instances/${notification.instanceId}`;
}

/** The same alerts, read now: what a "mark read" leaves on screen without reading the list again. */
export function markedRead(list: NotificationItem[], ids?: string[]): NotificationItem[] {
  const now = new Date();
  return list.map((item) => (item.readAt === null && (!ids || ids.includes(item.id)) ? { ...item, readAt: now } : item));
}

import type { Notification } from "./notify";

/**
 * An alert in the snake_case scripts read: the webhook's `data.notification` and `qdz notifications --json`
 * (which adds `read_at`), one shape from either.
 */
export function notificationJson(notification: Omit<Notification, "accountId" | "dedupKey" | "readAt">) {
  return {
    id: notification.id,
    kind: notification.kind,
    severity: notification.severity,
    title: notification.title,
    body: notification.body,
    instance_id: notification.instanceId,
    data: notification.data,
    /** ISO 8601, as the in-app list shows it. */
    created_at: notification.createdAt.toISOString(),
  };
}

export type NotificationJson = ReturnType<typeof notificationJson>;

/** A notification as `qdz notifications --json` and GET /v1/notifications show it: the webhook's shape, plus when it was read (null while unread). */
export function notificationJsonWithRead(notification: Omit<Notification, "accountId" | "dedupKey">) {
  return { ...notificationJson(notification), read_at: notification.readAt };
}

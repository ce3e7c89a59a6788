import { type NotificationJson, notificationJson } from "../notifications/json";
import type { Notification } from "../notifications/notify";

/**
 * What a receiver gets: Stripe's event envelope (`id`, `type`, `created` in unix seconds, `data`) in snake_case,
 * the shape webhook receivers already parse. The id is the delivery's, so a receiver can drop a repeat.
 */
export interface WebhookEvent {
  id: string;
  type: `alert.${Notification["kind"]}`;
  created: number;
  account_id: string;
  data: { notification: NotificationJson };
}

export function eventFor(deliveryId: string, notification: Notification): WebhookEvent {
  return {
    id: deliveryId,
    type: `alert.${notification.kind}`,
    created: Math.floor(notification.createdAt.getTime() / 1000),
    account_id: notification.accountId,
    data: { notification: notificationJson(notification) },
  };
}

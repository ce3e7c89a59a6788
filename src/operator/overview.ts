import type { Executor } from "../../db/client";
import { listPaymentReviews } from "../billing/payment-reviews";
import { type QueueReader, readInstancesByProvider, readQueueDepths } from "../platform/database-gauges";
import { offersCacheFor } from "../providers/offers";
import type { Provider } from "../providers/seam";

/** Each provider's health as placement sees it: healthy, degraded (and why) or not asked yet, with its offers. */
export function providerHealth(providers: Provider[]) {
  return offersCacheFor(providers).health();
}

/** Instances holding a pod, per provider, with their states; pods not placed yet are under a null provider. */
export async function podsByProvider(db: Executor) {
  const byProvider = new Map<string | null, { providerId: string | null; total: number; states: Record<string, number> }>();
  for (const row of await readInstancesByProvider(db)) {
    const entry = byProvider.get(row.provider) ?? { providerId: row.provider, total: 0, states: {} };
    entry.total += row.count;
    entry.states[row.state] = row.count;
    byProvider.set(row.provider, entry);
  }
  return [...byProvider.values()].sort((a, b) => b.total - a.total);
}

/** Each job queue's waiting jobs (queued and deferred), active and failed ones, as pg-boss last counted them. */
export async function queueDepths(boss: QueueReader | undefined) {
  const queues = await readQueueDepths(boss);
  return queues
    .map((queue) => ({ name: queue.name, depth: queue.queuedCount, deferred: queue.deferredCount, active: queue.activeCount, failed: queue.failedCount }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The webhook events still waiting for someone to look at them. */
export function openPaymentReviews(db: Executor) {
  return listPaymentReviews(db, { limit: 50 });
}

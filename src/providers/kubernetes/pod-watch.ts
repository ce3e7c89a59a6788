import { type KubeConfig, type V1Pod, Watch } from "@kubernetes/client-node";
import { toDate } from "./pod-status";

export interface PodWatchSource {
  config: KubeConfig;
  namespace: string;
  labelSelector: string;
  /** Lists the pods the watch covers, with the list's resourceVersion to watch from. */
  list: () => Promise<{ pods: V1Pod[]; resourceVersion: string }>;
  backoffMs: number;
  maxBackoffMs: number;
  watchTimeoutSeconds: number;
  sleep: (ms: number) => Promise<void>;
}

/**
 * The platform's pods in the namespace, kept current by a watch instead of a GET per status: list once, then apply
 * the API server's events from that list's resourceVersion. The cache answers only while the watch is live; after
 * a failure it answers nothing (callers GET) until a fresh list, after a backoff, has replaced it.
 */
export class PodWatch {
  private readonly pods = new Map<string, V1Pod>();
  private synced = false;
  private closed = false;
  private running: Promise<void> | null = null;
  private current: AbortController | null = null;
  private wake: () => void = () => {};
  private readonly closing = new Promise<void>((resolve) => {
    this.wake = resolve;
  });

  constructor(private readonly source: PodWatchSource) {}

  /** Starts the list-and-watch loop once; later calls do nothing. */
  start(): void {
    if (!this.running && !this.closed) this.running = this.loop();
  }

  /** The pod as the last event left it, or undefined when the watch is not live or has never seen it. */
  get(name: string): V1Pod | undefined {
    return this.synced ? this.pods.get(name) : undefined;
  }

  /** Every pod, or null when the watch is not live. */
  all(): V1Pod[] | null {
    return this.synced ? [...this.pods.values()] : null;
  }

  /** Ends the watch and its loop. */
  async close(): Promise<void> {
    this.closed = true;
    this.synced = false;
    this.wake();
    this.current?.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    try {
      await this.listAndWatch();
    } finally {
      this.synced = false;
    }
  }

  private async listAndWatch(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      let relistAtOnce = false;
      try {
        const listed = await this.source.list();
        this.pods.clear();
        for (const pod of listed.pods) this.pods.set(pod.metadata?.name ?? "", pod);
        this.synced = true;
        let resourceVersion = listed.resourceVersion;
        for (;;) {
          const ended = await this.watchOnce(resourceVersion);
          if (ended.events > 0) failures = 0;
          resourceVersion = ended.resourceVersion;
          if (this.closed) return;
          // 410 Gone: the server no longer has that resourceVersion; a fresh list is the normal answer.
          if (ended.gone) {
            relistAtOnce = true;
            break;
          }
          // The client ends a watch idle for 30 s (a quiet namespace): resume from where it stood.
          if (isTimeout(ended.error)) continue;
          if (ended.error) throw ended.error;
          // The server ended it (its timeout): resume, unless it delivered nothing, which is retried after a backoff
          // rather than in a hot loop.
          if (ended.events === 0) throw new Error("the watch ended without an event");
        }
      } catch {
        failures++;
      }
      this.synced = false;
      if (this.closed) return;
      if (!relistAtOnce) await Promise.race([this.source.sleep(Math.min(this.source.maxBackoffMs, this.source.backoffMs * 2 ** (failures - 1))), this.closing]);
    }
  }

  /** One watch request, until the server or the client ends it. */
  private async watchOnce(from: string): Promise<{ resourceVersion: string; events: number; gone: boolean; error: unknown }> {
    let resourceVersion = from;
    let events = 0;
    let gone = false;
    const watch = new Watch(this.source.config);
    const { promise: ended, resolve } = Promise.withResolvers<unknown>();
    this.current = await watch.watch(
      `/api/v1/namespaces/${encodeURIComponent(this.source.namespace)}/pods`,
      { labelSelector: this.source.labelSelector, resourceVersion: from, allowWatchBookmarks: true, timeoutSeconds: this.source.watchTimeoutSeconds },
      (type: string, object: V1Pod & { code?: number }) => {
        events++;
        if (type === "ERROR") {
          gone = object.code === 410;
          return;
        }
        resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
        const name = object.metadata?.name ?? "";
        if (type === "ADDED" || type === "MODIFIED") this.pods.set(name, withDates(object));
        else if (type === "DELETED") this.pods.delete(name);
      },
      (error: unknown) => resolve(error),
    );
    if (this.closed) this.current.abort();
    const error = await ended;
    if ((error as { statusCode?: number } | null)?.statusCode === 410) gone = true;
    return { resourceVersion, events, gone, error: gone ? null : error };
  }
}

function isTimeout(error: unknown): boolean {
  return (error as { name?: string } | null)?.name === "TimeoutError";
}

/** Watch events carry times as strings where the client's typed calls give Dates: one shape in the cache. */
function withDates(pod: V1Pod): V1Pod {
  const meta = pod.metadata;
  return {
    ...pod,
    metadata: meta ? { ...meta, creationTimestamp: toDate(meta.creationTimestamp) ?? undefined } : meta,
    status: pod.status
      ? { ...pod.status, conditions: pod.status.conditions?.map((c) => ({ ...c, lastTransitionTime: toDate(c.lastTransitionTime) ?? undefined })) }
      : pod.status,
  };
}

/**
 * What the Usage tab, the account Usage page, `qdz usage` and `GET /billing/usage` show: the
 * contract between the usage queries (src/usage) and everything that draws them. Money is integer
 * cents and time whole seconds, exactly as metering billed them; times are ISO strings in UTC,
 * buckets are laid out in the viewer's IANA time zone.
 */

export const usageRanges = ["24h", "7d", "30d", "90d"] as const;
export type UsageRange = (typeof usageRanges)[number];

/** One bar: what the ledger debited and refunded for ticks dated within [start, end). */
export interface UsageBucket {
  /** Bucket start and end (exclusive), UTC instants of local bucket boundaries in the viewer's zone. */
  start: string;
  end: string;
  granularity: "hour" | "day";
  /** Debited in the bucket (positive cents): the sum of the ledger's debits dated in it. */
  costCents: number;
  /** Billable (active) seconds metered in the bucket. */
  billableSeconds: number;
  /** Refunded in the bucket (positive cents), its own series: never netted into cost. */
  refundedCents: number;
  /** The bucket holding "now": still filling. */
  partial: boolean;
}

export interface UsageCards {
  /** Debited since the start of the viewer's current month (refunds apart), whatever the range. */
  monthToDateCents: number;
  /** Cost in the range divided by the days (local) in the range on which the subject existed. */
  averageDailyCents: number;
  /** The days that average is over. */
  daysCounted: number;
  /** Billable seconds in the range (the card shows them as hours). */
  activeSeconds: number;
  /** Refunded in the range (positive cents). */
  refundedCents: number;
}

export interface InstanceUsage {
  instanceId: string;
  range: UsageRange;
  timeZone: string;
  buckets: UsageBucket[];
  cards: UsageCards;
}

export interface InstanceCost {
  instanceId: string;
  /** The instance's display name (serving name), kept for deleted instances. */
  name: string;
  deleted: boolean;
  costCents: number;
  billableSeconds: number;
  refundedCents: number;
}

export interface AccountUsageBucket extends UsageBucket {
  /** The bucket's cost split by instance, for the stacked bars: the top instances, then one "other" row (instanceId null). */
  byInstance: { instanceId: string | null; costCents: number }[];
}

export interface AccountUsage {
  range: UsageRange;
  timeZone: string;
  buckets: AccountUsageBucket[];
  /** Instances by cost in the range, highest first (at most 10); the stacks name these. */
  topInstances: InstanceCost[];
  cards: UsageCards;
}

/** The resource signals the sidecar samples, charted over the last 24 h. */
export const resourceSignals = ["cpuPercent", "memoryUsedBytes", "gpuUtilPercent", "vramUsedBytes", "diskUsedBytes", "gpuTemperatureC"] as const;
export type ResourceSignal = (typeof resourceSignals)[number];

export interface ResourceSeries {
  signal: ResourceSignal;
  /** False when the pod never reported it in the window (no GPU): shown as "not reported", never as zeros. */
  reported: boolean;
  /** The capacity beside a used amount (RAM, VRAM, disk total), when the pod reports it. */
  totalBytes: number | null;
  /** [ISO time, value]; value null marks a gap (the pod was not running or did not report), drawn as a gap. */
  points: [string, number | null][];
}

export interface InstanceResources {
  instanceId: string;
  /** The window: the last 24 h, ending now. */
  from: string;
  to: string;
  series: ResourceSeries[];
}

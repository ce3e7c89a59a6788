import { z } from "zod";
import { safeString } from "../validation";

/** What the local provider tells a pod's sidecar agent, in `<pod dir>/agent.json`. */
export interface AgentSpec {
  podId: string;
  instanceId: string;
  runId: string;
  /** The control plane's base URL; reports go to `<controlUrl>/agent/*`. */
  controlUrl: string;
  /** The per-run bearer token (only its hash is stored by the control plane). */
  token: string;
  podDir: string;
  agentPort: number;
  /** The program the pod runs: the runtime serving a model, or a template's pod process. */
  workload: { argv: string[]; env: Record<string, string>; healthUrl: string };
  /** A model file to fetch from the hub before the workload starts (llama.cpp's GGUF). */
  download: { hubEndpoint: string; repo: string; file: string; destination: string } | null;
  authorizedKeys: string[];
  heartbeatMs: number;
  sampleMs: number;
}

const nullableNumber = z.number().finite().nullable();

/** A heartbeat's view of the workload. `phase`/`progress` come from the runtime's health answer while it boots. */
export const workloadReport = z.discriminatedUnion("state", [
  z.object({ state: z.literal("starting"), phase: safeString().max(64), progress: z.number().min(0).max(1).nullable(), message: safeString().max(500) }),
  z.object({ state: z.literal("ready") }),
  z.object({ state: z.literal("exited"), exitCode: z.number().int().nullable(), signal: safeString().max(32).nullable(), lastLines: safeString().max(20_000) }),
]);

/**
 * When the pod says it sent a report, by its own clock. Informational only: the api times every report
 * on receipt, so a pod's clock (wrong, or hostile: 9999-12-31) can move no heartbeat, sample or progress;
 * one far off is logged. Not refused when off, since a pod with a bad clock still reports a live workload.
 */
const podTime = z.iso.datetime({ offset: true });

/** What the agent posts to `/agent/heartbeat` every second. */
export const heartbeatBody = z.object({
  runId: safeString().max(64),
  at: podTime,
  workload: workloadReport,
});

/** What the agent posts to `/agent/samples` every few seconds. GPU readings are null when the pod has no GPU to read (no nvidia-smi): never invented. */
export const sampleBody = z.object({
  runId: safeString().max(64),
  at: podTime,
  cpuPercent: nullableNumber,
  memoryUsedBytes: nullableNumber,
  memoryTotalBytes: nullableNumber,
  diskUsedBytes: nullableNumber,
  diskTotalBytes: nullableNumber,
  gpuUtilPercent: nullableNumber,
  vramUsedBytes: nullableNumber,
  vramTotalBytes: nullableNumber,
  gpuTemperatureC: nullableNumber,
});

export type WorkloadReport = z.infer<typeof workloadReport>;
export type HeartbeatBody = z.infer<typeof heartbeatBody>;
export type SampleBody = z.infer<typeof sampleBody>;

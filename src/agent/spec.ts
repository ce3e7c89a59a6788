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

/** A heartbeat's view of the workload. `phase`/`progress` come from the runtime's health answer while it boots. */
export type WorkloadReport =
  | { state: "starting"; phase: string; progress: number | null; message: string }
  | { state: "ready" }
  | { state: "exited"; exitCode: number | null; signal: string | null; lastLines: string };

export interface HeartbeatBody {
  runId: string;
  at: string;
  workload: WorkloadReport;
}

export interface SampleBody {
  runId: string;
  at: string;
  cpuPercent: number | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  diskUsedBytes: number | null;
  diskTotalBytes: number | null;
  /** Null when the pod has no GPU to read (no nvidia-smi): never invented. */
  gpuUtilPercent: number | null;
  vramUsedBytes: number | null;
  vramTotalBytes: number | null;
  gpuTemperatureC: number | null;
}

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentSpec } from "../../src/instances/agent-contract";

/**
 * The agent's settings from the QDZ_* variables a provider gives a pod (`agentEnv` in src/providers/seam.ts), for
 * a sidecar beside the runtime's own container (Kubernetes): it starts no workload and fetches no model, it only
 * reports the runtime's health and the pod's resources.
 */
export function specFromEnv(env: Record<string, string | undefined>): AgentSpec {
  const required = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`the agent needs ${name} (or a settings file as its argument)`);
    return value;
  };
  return {
    podId: required("QDZ_POD_ID"),
    instanceId: required("QDZ_INSTANCE_ID"),
    runId: required("QDZ_RUN_ID"),
    controlUrl: required("QDZ_CONTROL_URL"),
    token: required("QDZ_AGENT_TOKEN"),
    // Scratch space of the agent's own: the runtime's files are in its container.
    podDir: mkdtempSync(join(tmpdir(), "qdz-pod-")),
    agentPort: 0,
    workload: { argv: [], env: {}, healthUrl: env.QDZ_HEALTH_URL ?? "" },
    download: null,
    authorizedKeys: [],
    heartbeatMs: 1000,
    sampleMs: 5000,
  };
}

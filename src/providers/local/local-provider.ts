import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { projectRoot } from "../../config";
import type { AgentSpec } from "../../instances/agent-contract";
import { isAlive, waitForExit } from "../../platform/embedded-postgres";
import { POD_ENV, portEnv } from "../../runtimes/launch";
import { findLlamaServer } from "../../runtimes/llama-cpp/paths";
import type { Offer } from "../../scheduler/offers";
import {
  expandEnvRefs,
  matchesQuery,
  type OfferQuery,
  type PodAddress,
  type PodHandle,
  type PodLaunch,
  type PodRef,
  type PodStatus,
  type Provider,
  ProvisionError,
  RUNTIME_PORT_NAME,
} from "../seam";
import type { LocalGpu } from "./inventory";
import { type LocalPodRecord, listPodIds, podDir, readPodRecord, writePodRecord } from "./pod-files";

export interface LocalProviderOptions {
  podsDir: string;
  inventory: LocalGpu[];
  /** The reference runtime's simulated boot time (image pull, download, load). */
  referenceBootMs: number;
  /** Finds an installed runtime binary (vllm, llama-server, …); null means run the reference runtime. */
  findBinary?: (name: string) => string | null;
  /**
   * Runs a step while no other process on this machine runs one (the registry's: a PostgreSQL advisory
   * lock, released even if the holder is killed). Unset: this process is the only provisioner.
   */
  exclusive?: <T>(step: () => T) => Promise<T>;
}

export const LOCAL_REGION = "local";
const REFERENCE_RUNTIME = join(projectRoot, "pods", "reference-runtime", "main.ts");
const AGENT = join(projectRoot, "pods", "agent", "main.ts");
const TEMPLATE_POD = join(projectRoot, "src", "providers", "local", "template-pod.ts");

/**
 * Runs pods as real processes on this machine: per pod a sidecar agent that
 * starts the workload (the real runtime binary when installed, otherwise the
 * reference runtime; a plain pod process for templates). GPUs are virtual,
 * from a configured inventory, so placement and billing work without one.
 */
export class LocalProvider implements Provider {
  readonly id = "local";
  readonly liveOffers = true;

  private readonly exclusive: <T>(step: () => T) => Promise<T>;

  constructor(private readonly options: LocalProviderOptions) {
    mkdirSync(options.podsDir, { recursive: true });
    this.exclusive = options.exclusive ?? (async (step) => step());
  }

  async offers(query?: OfferQuery): Promise<Offer[]> {
    const used = this.gpusInUse();
    const offers = this.options.inventory.flatMap((gpu) =>
      (["secure", "community"] as const).map((tier) => ({
        id: `local/${gpu.gpuType}/${tier}`,
        providerId: this.id,
        gpuType: gpu.gpuType,
        gpuCount: gpu.count,
        vramGib: gpu.vramGib,
        region: LOCAL_REGION,
        tier,
        providerCostCentsPerGpuHour: gpu.providerCostCentsPerGpuHour[tier],
        // Both tiers share the same virtual GPUs.
        availableGpus: Math.max(0, gpu.count - (used.get(gpu.gpuType) ?? 0)),
        latencyMs: 1,
      })),
    );
    return query ? offers.filter((offer) => matchesQuery(offer, query)) : offers;
  }

  async provision(launch: PodLaunch, offer: Offer): Promise<PodHandle> {
    const dir = podDir(this.options.podsDir, launch.podId);
    const agentPort = await freePort();
    // Pods share this machine's network: each gets its own ports and directory, through the variables its argv refers to.
    const ports = await Promise.all(launch.ports.map(async (p) => ({ name: p.name, port: p.port, hostPort: await freePort() })));
    const runtimePort = ports.find((p) => p.name === RUNTIME_PORT_NAME)?.hostPort ?? null;
    const env: Record<string, string> = {
      ...launch.env,
      [POD_ENV.host]: "127.0.0.1",
      [POD_ENV.modelDir]: join(dir, "models"),
      ...Object.fromEntries(ports.map((p) => [portEnv(p.name), String(p.hostPort)])),
    };

    const record: LocalPodRecord = {
      podId: launch.podId,
      instanceId: launch.instanceId,
      runId: launch.runId,
      gpuType: launch.gpuType,
      gpuCount: launch.gpuCount,
      tier: offer.tier,
      agentPid: null,
      agentPort,
      runtimePort,
      ports: ports.filter((p) => p.name !== RUNTIME_PORT_NAME),
      createdAt: new Date().toISOString(),
      stoppedAt: null,
    };
    // Counting the free GPUs and writing the record that takes them is one step for every worker on this
    // machine: two provisioners checking at once would otherwise both see the last GPU free.
    await this.exclusive(() => {
      const free = this.freeGpus(launch.gpuType);
      if (free < launch.gpuCount) throw new ProvisionError(`no ${launch.gpuCount}×${offer.gpuType} free on the local provider any more`, true);
      mkdirSync(dir, { recursive: true });
      writePodRecord(this.options.podsDir, record);
    });

    const agentSpec: AgentSpec = {
      podId: launch.podId,
      instanceId: launch.instanceId,
      runId: launch.runId,
      controlUrl: launch.agent.controlUrl,
      token: launch.agent.token,
      podDir: dir,
      agentPort,
      ...this.workload(launch, env, runtimePort, record.ports),
      authorizedKeys: launch.sshAuthorizedKeys,
      heartbeatMs: 1000,
      sampleMs: 5000,
    };
    // The token lives only in the pod's own directory, readable by its owner alone.
    writeFileSync(join(dir, "agent.json"), JSON.stringify(agentSpec, null, 2), { mode: 0o600 });

    const log = openSync(join(dir, "agent.log"), "a");
    const agent = spawn(process.execPath, [AGENT, join(dir, "agent.json")], {
      cwd: dir,
      detached: true, // its own process group: the pod outlives a restart of the workers that made it
      stdio: ["ignore", log, log],
      env: { PATH: process.env.PATH ?? "", HOME: join(dir, "home") },
    });
    closeSync(log);
    agent.unref();
    if (!agent.pid) throw new ProvisionError("the pod's agent did not start", true);
    writePodRecord(this.options.podsDir, { ...record, agentPid: agent.pid });

    return { podId: launch.podId, providerId: this.id, externalId: launch.podId, region: LOCAL_REGION, address: addressOf(record) };
  }

  /**
   * The program the agent runs, how to tell it is healthy, and the model file it needs first. The image's
   * program runs when it is installed here (argv[0]: `llama-server`, `vllm`, …), with the launch's argv;
   * otherwise the reference runtime stands in for it, serving the same model under the same name.
   */
  private workload(
    launch: PodLaunch,
    env: Record<string, string>,
    runtimePort: number | null,
    ports: { name: string; port: number; hostPort: number }[],
  ): Pick<AgentSpec, "workload" | "download"> {
    if (runtimePort === null || !launch.command || !launch.healthPath) {
      const health = ports[0] ? `http://127.0.0.1:${ports[0].hostPort}/` : "";
      return {
        workload: { argv: [process.execPath, TEMPLATE_POD, JSON.stringify({ image: launch.image, ports })], env: {}, healthUrl: health },
        download: null,
      };
    }
    const healthUrl = `http://127.0.0.1:${runtimePort}${launch.healthPath}`;
    const binary = (this.options.findBinary ?? findRuntimeBinary)(launch.command[0]!);
    if (binary) {
      const argv = expandEnvRefs(launch.command, env);
      argv[0] = binary;
      const asked = env[POD_ENV.download];
      const wanted = asked ? (JSON.parse(asked) as { hubEndpoint: string; repo: string; file: string }) : null;
      // A runtime that loads a file (llama.cpp) gets it from the hub first; the agent shows the download's progress.
      const download = wanted ? { ...wanted, destination: join(env[POD_ENV.modelDir]!, wanted.file) } : null;
      return { workload: { argv, env: {}, healthUrl }, download };
    }
    return {
      download: null,
      workload: {
        argv: [
          process.execPath,
          REFERENCE_RUNTIME,
          "--host",
          "127.0.0.1",
          "--port",
          String(runtimePort),
          "--served-model-name",
          env[POD_ENV.servedModelName] ?? "",
          "--model",
          env[POD_ENV.model] ?? "",
          "--task",
          env[POD_ENV.task] ?? "chat",
          "--max-model-len",
          env[POD_ENV.contextLength] ?? "4096",
          "--boot-ms",
          String(this.options.referenceBootMs),
        ],
        env: {},
        healthUrl: `http://127.0.0.1:${runtimePort}/health`,
      },
    };
  }

  async stop({ podId }: PodRef): Promise<void> {
    const record = readPodRecord(this.options.podsDir, podId);
    if (!record) return;
    await this.terminate(record);
    if (!record.stoppedAt) writePodRecord(this.options.podsDir, { ...record, stoppedAt: new Date().toISOString() });
  }

  /**
   * Takes a running community pod back, the way a cloud reclaims spot capacity: its processes end at once and it
   * reports `reclaimed` until the platform releases it. For operators and demos (`bun server/ops.ts reclaim`).
   */
  async reclaim(podId: string): Promise<{ reclaimedAt: Date }> {
    const record = readPodRecord(this.options.podsDir, podId);
    if (!record || record.stoppedAt) throw new Error(`the local provider has no pod ${podId}`);
    if (record.tier !== "community") throw new Error(`pod ${podId} runs on secure capacity, which is never reclaimed`);
    if (record.reclaimedAt) return { reclaimedAt: new Date(record.reclaimedAt) };
    const reclaimedAt = new Date();
    writePodRecord(this.options.podsDir, { ...record, reclaimedAt: reclaimedAt.toISOString() });
    await this.terminate(record);
    return { reclaimedAt };
  }

  private async terminate(record: LocalPodRecord): Promise<void> {
    const pid = record.agentPid;
    if (pid && isAlive(pid)) {
      signalGroup(pid, "SIGTERM");
      if (!(await waitForExit(pid, 10_000))) signalGroup(pid, "SIGKILL");
      await waitForExit(pid, 5_000);
    }
  }

  async status({ podId }: PodRef): Promise<PodStatus> {
    const record = readPodRecord(this.options.podsDir, podId);
    if (!record || record.stoppedAt) return { state: "gone" };
    if (record.reclaimedAt) {
      return { state: "reclaimed", at: new Date(record.reclaimedAt), reason: "the local provider took its community capacity back" };
    }
    if (record.agentPid && isAlive(record.agentPid)) return { state: "running", address: addressOf(record) };
    return { state: "exited", reason: "the pod's processes are no longer running" };
  }

  async pods(): Promise<{ podId: string; externalId: string; createdAt: Date }[]> {
    return listPodIds(this.options.podsDir)
      .map((id) => readPodRecord(this.options.podsDir, id))
      .filter((record): record is LocalPodRecord => record !== null && !record.stoppedAt)
      .map((record) => ({ podId: record.podId, externalId: record.podId, createdAt: new Date(record.createdAt) }));
  }

  async logs({ podId }: PodRef, stream: "runtime" | "agent", tailLines: number): Promise<string> {
    const file = join(podDir(this.options.podsDir, podId), `${stream}.log`);
    if (!existsSync(file)) return "";
    return readFileSync(file, "utf8")
      .split("\n")
      .slice(-tailLines - 1)
      .join("\n");
  }

  private freeGpus(gpuType: string): number {
    const owned = this.options.inventory.find((gpu) => gpu.gpuType === gpuType)?.count ?? 0;
    return owned - (this.gpusInUse().get(gpuType) ?? 0);
  }

  /** GPUs held by pods whose agent still runs or is about to start, by GPU type. */
  private gpusInUse(): Map<string, number> {
    const used = new Map<string, number>();
    for (const id of listPodIds(this.options.podsDir)) {
      const record = readPodRecord(this.options.podsDir, id);
      if (!record || record.stoppedAt || (record.agentPid !== null && !isAlive(record.agentPid))) continue;
      used.set(record.gpuType, (used.get(record.gpuType) ?? 0) + record.gpuCount);
    }
    return used;
  }
}

/** An installed runtime binary: llama.cpp's from the platform's own build cache first, then PATH. */
export function findRuntimeBinary(name: string): string | null {
  if (name === "llama-server") return findLlamaServer();
  return Bun.which(name);
}

function signalGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** Where a local pod is reachable: its own ports on the loopback address. */
function addressOf(record: LocalPodRecord): PodAddress {
  return {
    runtimeUrl: record.runtimePort ? `http://127.0.0.1:${record.runtimePort}` : null,
    ports: record.ports.map((p) => ({ name: p.name, port: p.port, url: `http://127.0.0.1:${p.hostPort}` })),
  };
}

import type { RuntimeConfig } from "../../db/schema";
import { agentEnv, type LaunchPort, type PodLaunch, RUNTIME_PORT_NAME } from "../providers/seam";

/**
 * Where a pod's network and files are, as environment variables its argv refers to with Kubernetes' `$(NAME)`
 * syntax. A container sets them once (every port free, host 0.0.0.0); the local provider, whose pods share the
 * machine's network, gives each pod its own ports and directory through the same variables, and so reads no
 * runtime's flags.
 */
export const POD_ENV = {
  host: "QDZ_HOST",
  modelDir: "QDZ_MODEL_DIR",
  /** A JSON `{hubEndpoint, repo, file}`: a model file the agent fetches into the model directory before the runtime starts. */
  download: "QDZ_MODEL_DOWNLOAD",
  /** What the model is, for a stand-in that serves it without the runtime's binary (the local reference runtime). */
  runtimeId: "QDZ_RUNTIME_ID",
  servedModelName: "QDZ_SERVED_MODEL_NAME",
  model: "QDZ_MODEL",
  task: "QDZ_TASK",
  contextLength: "QDZ_CONTEXT_LENGTH",
} as const;

/** The variable holding a named port's number: `QDZ_PORT_RUNTIME`, `QDZ_PORT_SSH`. */
export function portEnv(name: string): string {
  return `QDZ_PORT_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

export interface LaunchSubject {
  podId: string;
  instanceId: string;
  runId: string;
  config: RuntimeConfig;
  /** The model served, or null for a plain template pod. */
  serving: { servedModelName: string; model: string; modelFile: string | null; task: "chat" | "embeddings" } | null;
  gpuType: string;
  gpuCount: number;
  sshAuthorizedKeys: string[];
  agent: { controlUrl: string; token: string };
  /** Where a runtime that loads a file (llama.cpp's GGUF) fetches it from. */
  hubEndpoint: string;
}

/** In a container: every port is the pod's own, the model files live here. */
const CONTAINER_HOST = "0.0.0.0";
const CONTAINER_MODEL_DIR = "/models";

/**
 * Renders an instance's runtime config into a ready launch, once, for every provider: the catalog's
 * `{placeholders}` filled with the model's facts, and the network and file places as `$(QDZ_…)` references
 * to the launch's own environment.
 */
export function renderLaunch(subject: LaunchSubject): PodLaunch {
  const { config, serving } = subject;
  const runtimePort = serving && config.port !== null ? config.port : null;
  const ports: LaunchPort[] = [
    ...(runtimePort !== null ? [{ name: RUNTIME_PORT_NAME, port: runtimePort, protocol: "http" as const }] : []),
    ...config.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.name === "ssh" ? ("tcp" as const) : ("http" as const) })),
  ];
  const values: Record<string, string> = {
    host: `$(${POD_ENV.host})`,
    port: `$(${portEnv(RUNTIME_PORT_NAME)})`,
    model: serving?.model ?? "",
    model_file: serving?.modelFile ? `$(${POD_ENV.modelDir})/${serving.modelFile}` : "",
    served_model_name: serving?.servedModelName ?? "",
    context_length: String(config.contextLength ?? 4096),
    gpu_count: String(subject.gpuCount),
  };
  const command = serving && config.command.length > 0 ? config.command.map((arg) => arg.replace(/\{(\w+)\}/g, (_, key: string) => values[key] ?? "")) : null;
  const healthPath = runtimePort !== null ? (config.healthPath ?? "/health") : null;

  const env: Record<string, string> = {
    [POD_ENV.host]: CONTAINER_HOST,
    [POD_ENV.modelDir]: CONTAINER_MODEL_DIR,
    ...Object.fromEntries(ports.map((p) => [portEnv(p.name), String(p.port)])),
  };
  if (serving) {
    env[POD_ENV.runtimeId] = config.runtimeId ?? "";
    env[POD_ENV.servedModelName] = serving.servedModelName;
    env[POD_ENV.model] = serving.model;
    env[POD_ENV.task] = serving.task;
    env[POD_ENV.contextLength] = values.context_length!;
    if (serving.modelFile) env[POD_ENV.download] = JSON.stringify({ hubEndpoint: subject.hubEndpoint, repo: serving.model, file: serving.modelFile });
  }
  const launch: PodLaunch = {
    podId: subject.podId,
    instanceId: subject.instanceId,
    runId: subject.runId,
    image: config.image,
    command,
    env,
    ports,
    healthPath,
    gpuType: subject.gpuType,
    gpuCount: subject.gpuCount,
    sshAuthorizedKeys: subject.sshAuthorizedKeys,
    agent: subject.agent,
  };
  return { ...launch, env: { ...env, ...agentEnv(launch) } };
}

import type { Offer } from "../scheduler/offers";

/** Everything a provider needs to start one pod. */
export interface PodSpec {
  podId: string;
  instanceId: string;
  runId: string;
  image: string;
  /** The runtime to serve a model, or null for a plain template pod. */
  runtime: {
    id: string;
    localBinary: string;
    /** argv with `{placeholders}`, from the runtime config snapshot. */
    command: string[];
    healthPath: string;
    servedModelName: string;
    model: string;
    modelFile: string | null;
    task: "chat" | "embeddings";
    contextLength: number;
  } | null;
  /** Ports a template pod exposes (ssh, webui, …). */
  ports: { port: number; name: string }[];
  gpuType: string;
  gpuCount: number;
  /** Written to the pod's authorized_keys at first boot. */
  sshAuthorizedKeys: string[];
  /** Where and how the sidecar agent reports. */
  agent: { controlUrl: string; token: string };
  /** For runtimes that load a file from the hub (llama.cpp): where to fetch it. */
  hubEndpoint: string;
}

export interface PodHandle {
  podId: string;
  providerId: string;
  region: string;
  /** Base URL of the OpenAI-compatible runtime, when the pod serves a model. */
  runtimeUrl: string | null;
  /** Where each of the pod's ports is reachable. */
  ports: { name: string; port: number; url: string }[];
}

export type PodStatus =
  | { state: "running" }
  | { state: "exited"; reason: string }
  /** Taken back by the provider (a community pod outbid, preempted or evicted); billing ended with its last heartbeat. */
  | { state: "reclaimed"; at: Date; reason: string }
  /** The provider has no such pod (never made, or already released). */
  | { state: "gone" };

export class ProvisionError extends Error {
  constructor(
    message: string,
    /** Whether trying another offer might work (capacity vanished) or not (bad spec). */
    readonly retryable = true,
  ) {
    super(message);
  }
}

/** A source of GPU capacity: the local machine, a GPU cloud, or a Kubernetes cluster. */
export interface Provider {
  id: string;
  offers(): Promise<Offer[]>;
  provision(spec: PodSpec, offer: Offer): Promise<PodHandle>;
  /** Releases the pod; stopping a pod that is already gone is not an error. */
  stop(podId: string): Promise<void>;
  status(podId: string): Promise<PodStatus>;
  /** Every pod the provider holds for this platform, so the reconciler can find orphans. */
  pods(): Promise<{ podId: string; createdAt: Date }[]>;
  logs?(podId: string, stream: "runtime" | "agent", tailLines: number): Promise<string>;
}

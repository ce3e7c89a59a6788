/**
 * The provider seam: what every source of GPU capacity (the local machine, a Kubernetes cluster, RunPod, Vast.ai,
 * Lambda) is given and must answer. A provider interprets no runtime: it receives a ready launch (image by digest,
 * rendered argv and env, ports, health path, GPUs, SSH keys, the agent's control URL and token) and reports the
 * pod's address when it knows it, which for a cloud pod is after boot.
 * Rendering lives with the runtimes (src/runtimes/launch.ts); the argv refers to the pod's ports and directories
 * as `$(QDZ_…)` variables of its own environment, which a provider expands (`expandEnvRefs`) or hands to a runtime
 * that does (Kubernetes).
 */
import type { Offer } from "../scheduler/offers";

/** What placement asks a provider for: the capacity that could host this pod now. Empty lists mean any. */
export interface OfferQuery {
  gpuTypes: string[];
  gpuCount: number;
  regions: string[];
  /** Null: both tiers. */
  tier: "secure" | "community" | null;
}

export interface LaunchPort {
  name: string;
  /** The port inside the pod. */
  port: number;
  protocol: "http" | "tcp";
}

/** The port a runtime serves its OpenAI-compatible API on is named this. */
export const RUNTIME_PORT_NAME = "runtime";

/** One pod, ready to start: nothing in it is for the provider to interpret. */
export interface PodLaunch {
  /** The platform's id for the pod: adapters name (or label) the pod with it, so `pods()` can report it. */
  podId: string;
  instanceId: string;
  runId: string;
  /** A catalog image pinned by digest (`name@sha256:…`). */
  image: string;
  /** The container's argv, rendered by the runtimes; null runs the image's own entrypoint. */
  command: string[] | null;
  /** The container's environment, the agent's settings included (`agentEnv`). */
  env: Record<string, string>;
  /** Ports the pod exposes; a runtime's is named `runtime`. */
  ports: LaunchPort[];
  /** The runtime's health check on its port; null for a pod that serves no model. */
  healthPath: string | null;
  gpuType: string;
  gpuCount: number;
  /** Written to the pod's authorized_keys at first boot. */
  sshAuthorizedKeys: string[];
  /** Where and how the pod's agent reports (heartbeats, progress, exit). */
  agent: { controlUrl: string; token: string };
}

/** Where a pod is reachable. */
export interface PodAddress {
  /** Base URL of the `runtime` port; null for a pod that serves no model. */
  runtimeUrl: string | null;
  ports: { name: string; port: number; url: string }[];
}

export interface PodHandle {
  podId: string;
  providerId: string;
  /** The provider's own id for the pod (RunPod's pod id, Vast's instance id, a Kubernetes pod name): what status and stop take. */
  externalId: string;
  region: string;
  /** Null until the provider knows it; `status` reports it then, and the proxy routes only once it is known. */
  address: PodAddress | null;
}

/** A pod as the platform refers to it at its provider. */
export interface PodRef {
  podId: string;
  externalId: string;
}

export type PodStatus =
  /** Made, not yet running (pulling, booting); the address may already be known. */
  | { state: "starting"; address: PodAddress | null }
  | { state: "running"; address: PodAddress | null }
  | { state: "exited"; reason: string }
  /** Taken back by the provider (a spot pod outbid or preempted): billing ends at `at`. */
  | { state: "reclaimed"; at: Date; reason: string }
  /** The provider has no such pod (never made, or already released). */
  | { state: "gone" };

/** A provision that failed; `retryable` says whether another offer may succeed (capacity gone) or none will (a bad launch). */
export class ProvisionError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** A provider that could not answer (unreachable, 5xx, rate limited past its retries): its offers are ranked out for a while. */
export class ProviderUnavailableError extends Error {
  constructor(
    readonly providerId: string,
    message: string,
  ) {
    super(`${providerId}: ${message}`);
  }
}

/** A source of GPU capacity. */
export interface Provider {
  readonly id: string;
  /** Its offers cost nothing to ask (the local machine's own inventory): asked at every placement, never cached. */
  readonly liveOffers?: boolean;
  /** What can be placed now for `query`; called by the offers cache in the background, never by placement itself. */
  offers(query: OfferQuery): Promise<Offer[]>;
  provision(launch: PodLaunch, offer: Offer): Promise<PodHandle>;
  /** Releases the pod; stopping a pod that is already gone is not an error. */
  stop(pod: PodRef): Promise<void>;
  status(pod: PodRef): Promise<PodStatus>;
  /** Every pod the provider holds for this platform, so the reconciler can find orphans. */
  pods(): Promise<{ podId: string; externalId: string; createdAt: Date }[]>;
  logs?(pod: PodRef, stream: "runtime" | "agent", tailLines: number): Promise<string>;
}

/**
 * The launch's SSH public keys for a container cloud or cluster, the way RunPod's images take them (docs.runpod.io
 * "Override public key"): one variable, a key a line, which an image with an SSH server writes to authorized_keys
 * at start. RunPod, Vast.ai and Kubernetes pods all get it; Lambda's VMs take keys through cloud-init instead, and
 * the local provider's agent writes them itself. Empty when the account has no keys.
 */
export function sshKeysEnv(launch: Pick<PodLaunch, "sshAuthorizedKeys">): Record<string, string> {
  return launch.sshAuthorizedKeys.length > 0 ? { [SSH_KEYS_ENV]: launch.sshAuthorizedKeys.join("\n") } : {};
}

export const SSH_KEYS_ENV = "SSH_PUBLIC_KEY";

/**
 * The environment a pod's agent reads its settings from, for providers whose pods run the agent in the runtime's
 * own container (the clouds: one container per pod). Kubernetes gives the same variables to its sidecar.
 */
export function agentEnv(launch: Pick<PodLaunch, "podId" | "instanceId" | "runId" | "agent" | "healthPath" | "ports">): Record<string, string> {
  const runtime = launch.ports.find((p) => p.name === RUNTIME_PORT_NAME);
  return {
    QDZ_POD_ID: launch.podId,
    QDZ_INSTANCE_ID: launch.instanceId,
    QDZ_RUN_ID: launch.runId,
    QDZ_CONTROL_URL: launch.agent.controlUrl,
    QDZ_AGENT_TOKEN: launch.agent.token,
    ...(runtime && launch.healthPath ? { QDZ_HEALTH_URL: `http://127.0.0.1:${runtime.port}${launch.healthPath}` } : {}),
  };
}

/**
 * Kubernetes' `$(NAME)` expansion of a container's command and args, for providers that start the command
 * themselves: a reference to a variable of `env` becomes its value, `$$(NAME)` stays `$(NAME)`, and a reference
 * to an unknown variable is left as written, as Kubernetes leaves it.
 */
export function expandEnvRefs(argv: readonly string[], env: Record<string, string>): string[] {
  return argv.map((arg) =>
    arg.replace(/\$(\$)?\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, escaped: string | undefined, name: string) =>
      escaped ? `$(${name})` : Object.hasOwn(env, name) ? env[name]! : whole,
    ),
  );
}

/** Whether an offer answers a query (empty lists: any). */
export function matchesQuery(offer: Offer, query: OfferQuery): boolean {
  return (
    (query.gpuTypes.length === 0 || query.gpuTypes.includes(offer.gpuType)) &&
    (query.regions.length === 0 || query.regions.includes(offer.region)) &&
    (query.tier === null || query.tier === offer.tier) &&
    offer.gpuCount >= query.gpuCount
  );
}

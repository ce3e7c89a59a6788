import type { Offer } from "../../scheduler/offers";
import { agentEnv, expandEnvRefs, type PodAddress, type PodLaunch, type PodStatus, RUNTIME_PORT_NAME, sshKeysEnv } from "../seam";
import type { RunPodCreatePod, RunPodPod } from "./runpod-api";
import { cloudOfTier } from "./runpod-offers";

/**
 * The launch's named ports, kept in the pod's own environment: `status` is given only the pod's ids, and a pod's `env`
 * comes back with it, so its address can be rebuilt with the right names after a restart.
 */
const PORTS_ENV = "QDZ_PORTS";

/**
 * The launch as a `CreatePodRequest`. `args` is one string in v2 (no argv array, no entrypoint override), so the argv
 * is shell-quoted into it. SSH keys go in `SSH_PUBLIC_KEY`, the variable RunPod documents for overriding the
 * account's key per pod (docs.runpod.io "Override public key"); the image's start script must honour it, and port 22
 * is exposed for it when the launch declares no such port.
 */
export function createPodBody(launch: PodLaunch, offer: Offer, runpodGpuId: string, name: string, diskGb: number): RunPodCreatePod {
  const ports = launch.ports.map((p) => `${p.port}/${p.protocol}`);
  const env: Record<string, string> = {
    ...launch.env,
    ...agentEnv(launch),
    [PORTS_ENV]: launch.ports.map((p) => `${p.name}=${p.port}/${p.protocol}`).join(","),
    ...sshKeysEnv(launch),
  };
  if (launch.sshAuthorizedKeys.length > 0 && !launch.ports.some((p) => p.port === 22)) ports.push("22/tcp");
  return {
    name,
    image: launch.image,
    ...(launch.command ? { args: shellWords(expandEnvRefs(launch.command, launch.env)) } : {}),
    disk: diskGb,
    ports,
    env,
    gpu: { id: runpodGpuId, count: launch.gpuCount },
    cloud: cloudOfTier[offer.tier],
    dataCenterIds: [offer.region],
  };
}

/** POSIX shell quoting: a word of safe characters stays bare, anything else is single-quoted. */
export function shellWords(argv: string[]): string {
  return argv.map((word) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`)).join(" ");
}

/**
 * Where the pod answers, or null while a port is not reachable yet. An http port goes through RunPod's proxy, whose
 * URL follows from the pod id alone (known at creation); a tcp port is exposed on a public IP and port that the pod's
 * `runtime.ports` reports only once it runs.
 */
export function podAddress(pod: Pick<RunPodPod, "id" | "runtime">, ports: PodLaunch["ports"]): PodAddress | null {
  const urls: PodAddress["ports"] = [];
  for (const port of ports) {
    if (port.protocol === "http") {
      urls.push({ name: port.name, port: port.port, url: `https://${pod.id}-${port.port}.proxy.runpod.net` });
      continue;
    }
    const mapped = pod.runtime?.ports?.find((p) => p.private === port.port && p.ip && p.public);
    if (!mapped) return null;
    urls.push({ name: port.name, port: port.port, url: `tcp://${mapped.ip}:${mapped.public}` });
  }
  const runtime = urls.find((p) => p.name === RUNTIME_PORT_NAME);
  return { runtimeUrl: runtime ? runtime.url.replace(/^tcp:/, "http:") : null, ports: urls };
}

/**
 * A pod's state for the reconciler. v2 creates no interruptible (spot) pods and has no field saying a pod was
 * interrupted, so nothing the adapter makes is ever "reclaimed": an EXITED pod, community or secure, is one whose
 * container stopped (the platform itself never stops pods, it terminates them), and the agent's own exit report says why.
 */
export function podStatus(pod: RunPodPod, ports: PodLaunch["ports"]): PodStatus {
  switch (pod.status) {
    case "PROVISIONING":
    case "STARTING":
      return { state: "starting", address: podAddress(pod, ports) };
    case "RUNNING":
      return { state: "running", address: podAddress(pod, ports) };
    case "EXITED":
      return { state: "exited", reason: `RunPod reports the ${pod.cloud.toLowerCase()} pod's container exited` };
    case "ERROR":
      return { state: "exited", reason: "RunPod reports the pod in an unrecoverable error state" };
    case "TERMINATED":
      return { state: "gone" };
  }
}

/** The launch's ports back from the pod's environment (see `PORTS_ENV`); a pod made without it exposes none we know. */
export function portsOfPod(pod: Pick<RunPodPod, "env">): PodLaunch["ports"] {
  const ports: PodLaunch["ports"] = [];
  for (const entry of (pod.env?.[PORTS_ENV] ?? "").split(",")) {
    const match = /^(.+)=(\d+)\/(http|tcp)$/.exec(entry);
    if (match) ports.push({ name: match[1]!, port: Number(match[2]), protocol: match[3] as "http" | "tcp" });
  }
  return ports;
}

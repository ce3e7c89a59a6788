/**
 * A platform launch as Vast's create-instance body. The container runs the image's own entrypoint (`runtype: "args"`,
 * so Vast puts no ssh or jupyter launcher in front of it) with the rendered argv as `args`; the environment and the
 * ports to expose travel in `env`, in the Docker flag format the reference gives (`-e K=V -p 8000:8000`).
 */
import { agentEnv, expandEnvRefs, type LaunchPort, type PodLaunch, ProvisionError, sshKeysEnv } from "../seam";
import type { RentableAsk } from "./offers";
import type { VastCreateInstanceBody } from "./vast-api";

/** Names the launch's ports inside the container, so `status` can address them after a restart of this process. */
export const PORTS_ENV = "QDZ_PORTS";

export function rentBody(launch: PodLaunch, ask: RentableAsk, settings: { label: string; diskGib: number }): VastCreateInstanceBody {
  const env = { ...launch.env, ...agentEnv(launch), ...sshKeysEnv(launch), [PORTS_ENV]: formatPorts(launch.ports) };
  return {
    image: launch.image,
    label: settings.label,
    disk: settings.diskGib,
    runtype: "args",
    env: dockerFlags(env, launch.ports),
    ...(launch.command ? { args: expandEnvRefs(launch.command, launch.env) } : {}),
    ...(ask.bid !== null ? { price: ask.bid } : {}),
    // Fail now rather than wait paused for the machine: another offer may be free.
    cancel_unavail: true,
    target_state: "running",
  };
}

function dockerFlags(env: Record<string, string>, ports: LaunchPort[]): string {
  const flags: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new ProvisionError(`environment variable name ${JSON.stringify(key)} cannot be passed to Vast`, false);
    flags.push(`-e ${key}=${quoted(value)}`);
  }
  // Docker maps each to a host port of Vast's choosing; the instance's `ports` tells which once it runs.
  for (const port of ports) flags.push(`-p ${port.port}:${port.port}`);
  return flags.join(" ");
}

/** Shell quoting for a value that needs it: the flag string is split on spaces. */
function quoted(value: string): string {
  return /^[A-Za-z0-9_.,:/@%+=-]*$/.test(value) && value !== "" ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export function formatPorts(ports: LaunchPort[]): string {
  return ports.map((p) => `${p.name}=${p.port}/${p.protocol}`).join(",");
}

export function parsePorts(text: string | null): LaunchPort[] | null {
  if (text === null) return null;
  const ports: LaunchPort[] = [];
  for (const item of text.split(",").filter(Boolean)) {
    const match = /^([^=]+)=(\d+)\/(http|tcp)$/.exec(item);
    if (!match?.[1] || !match[2]) return null;
    ports.push({ name: match[1], port: Number(match[2]), protocol: match[3] as LaunchPort["protocol"] });
  }
  return ports;
}

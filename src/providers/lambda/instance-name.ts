import { type LaunchPort, RUNTIME_PORT_NAME } from "../seam";

/**
 * What an instance's name carries. Lambda keeps no metadata of ours that it gives back (user_data is write-only, an
 * instance has no labels and no creation time), and `status`/`pods()` are given only ids, so the name holds what they
 * need: `<prefix><pod id>.<launch time, base-36 epoch seconds>.<ports>`, ports as `8000` (http) or `9000t` (tcp), the
 * runtime's marked `r`. Lambda allows 64 characters; ports other than the runtime's are dropped past that.
 */
export interface InstanceName {
  podId: string;
  createdAt: Date;
  ports: LaunchPort[];
}

const MAX_NAME = 64;

export function instanceName(prefix: string, podId: string, createdAt: Date, ports: LaunchPort[]): string {
  const stamp = Math.floor(createdAt.getTime() / 1000).toString(36);
  const token = (p: LaunchPort) => `${p.name === RUNTIME_PORT_NAME ? "r" : ""}${p.port}${p.protocol === "tcp" ? "t" : ""}`;
  const kept = [...ports].sort((a, b) => Number(b.name === RUNTIME_PORT_NAME) - Number(a.name === RUNTIME_PORT_NAME));
  let name = `${prefix}${podId}.${stamp}.${kept.map(token).join("-")}`;
  while (name.length > MAX_NAME && kept.length > 1) {
    kept.pop();
    name = `${prefix}${podId}.${stamp}.${kept.map(token).join("-")}`;
  }
  return name;
}

/** The name read back, or null for an instance that is not the platform's. */
export function parseInstanceName(prefix: string, name: string | undefined): InstanceName | null {
  if (!name?.startsWith(prefix)) return null;
  const [podId, stamp, portList] = name.slice(prefix.length).split(".");
  const seconds = Number.parseInt(stamp ?? "", 36);
  if (!podId || !Number.isFinite(seconds)) return null;
  const ports: LaunchPort[] = [];
  for (const token of (portList ?? "").split("-")) {
    const match = /^(r?)(\d+)(t?)$/.exec(token);
    if (match) ports.push({ name: match[1] ? RUNTIME_PORT_NAME : `port-${match[2]}`, port: Number(match[2]), protocol: match[3] ? "tcp" : "http" });
  }
  return { podId, createdAt: new Date(seconds * 1000), ports };
}

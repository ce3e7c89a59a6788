/**
 * A Vast instance as the platform's pod status. Vast reports three fields: `actual_status` (the container: null while
 * provisioning, loading, running, stopped, frozen, exited, rebooting, unknown, offline), `intended_status` (what the
 * renter asked for) and `cur_state` (the machine contract: running, stopped, unloaded once destroyed).
 */
import type { LaunchPort, PodAddress, PodStatus } from "../seam";
import { RUNTIME_PORT_NAME } from "../seam";
import { mappedPort, type VastInstance } from "./vast-api";

/**
 * `reclaimedAt` is when the platform first saw the instance outbid. An interruptible instance that a higher bid
 * displaces is paused by Vast: the renter still intends it to run, but its container and contract are stopped.
 */
export function podStatus(instance: VastInstance | null, ports: LaunchPort[] | null, reclaimedAt: () => Date): PodStatus {
  if (!instance || instance.cur_state === "unloaded") return { state: "gone" };
  const actual = instance.actual_status ?? null;
  const why = instance.status_msg?.trim() || null;
  const paused = actual === "stopped" || instance.cur_state === "stopped";
  if (instance.is_bid && instance.intended_status === "running" && paused) {
    return { state: "reclaimed", at: reclaimedAt(), reason: `outbid on Vast${why ? `: ${why}` : ""}` };
  }
  switch (actual) {
    case "running":
      return { state: "running", address: address(instance, ports) };
    case "exited":
      return { state: "exited", reason: `the container exited${why ? `: ${why}` : ""}` };
    // The reference: from these an instance never reaches running again.
    case "unknown":
    case "offline":
      return { state: "exited", reason: `the host is ${actual === "offline" ? "offline" : "not reporting"}${why ? `: ${why}` : ""}` };
    case "stopped":
      return { state: "exited", reason: `stopped${instance.intended_status === "stopped" ? "" : " by the host"}${why ? `: ${why}` : ""}` };
    default:
      // null (provisioning), loading, rebooting, frozen: not serving yet.
      return { state: "starting", address: address(instance, ports) };
  }
}

/** Known once Vast has a public IP and a host port for every port the pod exposes. */
function address(instance: VastInstance, ports: LaunchPort[] | null): PodAddress | null {
  const ip = instance.public_ipaddr?.trim();
  if (!ip || !ports) return null;
  const mapped: PodAddress["ports"] = [];
  for (const port of ports) {
    const host = mappedPort(instance.ports, port.port);
    if (host === null) return null;
    mapped.push({ name: port.name, port: host, url: `http://${ip}:${host}` });
  }
  return { runtimeUrl: mapped.find((p) => p.name === RUNTIME_PORT_NAME)?.url ?? null, ports: mapped };
}

import { agentEnv, expandEnvRefs, type PodLaunch } from "../seam";

/**
 * A Lambda instance is a whole VM booted from Lambda's own image (Lambda Stack, with Docker and the NVIDIA container
 * toolkit), not a container: the launch runs as a container started by cloud-init's `user_data`. The config is written
 * as JSON, which YAML reads as is, so no value needs YAML escaping; `runcmd` entries are argv lists, run without a shell.
 * The environment goes into a root-only file read by `docker run --env-file` (one `KEY=value` per line, taken
 * literally), so the agent's token is never on a command line. Users' SSH keys are added to the default user.
 */
export function userData(launch: PodLaunch): string {
  const env = { ...launch.env, ...agentEnv(launch) };
  const envFile = Object.entries(env)
    .map(([key, value]) => `${key}=${value}`)
    .join("\n");
  const docker = [
    "docker",
    "run",
    "--detach",
    "--name",
    "qdz-pod",
    "--restart",
    "no",
    "--gpus",
    "all",
    "--env-file",
    "/etc/qdz/pod.env",
    ...launch.ports.flatMap((p) => ["--publish", `${p.port}:${p.port}`]),
    launch.image,
    ...expandEnvRefs(launch.command ?? [], launch.env),
  ];
  const config = {
    ssh_authorized_keys: launch.sshAuthorizedKeys,
    write_files: [{ path: "/etc/qdz/pod.env", permissions: "0600", owner: "root:root", content: `${envFile}\n` }],
    runcmd: [docker],
  };
  return `#cloud-config\n${JSON.stringify(config, null, 2)}\n`;
}

/** A value docker's env file cannot carry (it is one line per variable): the launch is refused rather than cut. */
export function unsafeEnvKey(launch: PodLaunch): string | null {
  const env = { ...launch.env, ...agentEnv(launch) };
  return Object.entries(env).find(([key, value]) => /[\n\r=]/.test(key) || /[\n\r]/.test(value))?.[0] ?? null;
}

import { writeSync } from "node:fs";

/**
 * The process of a plain template pod on the local provider (Ubuntu,
 * PyTorch, A1111, …): it holds the template's ports and answers on each
 * with what the pod is, so the ports listed in the app really answer.
 */
const { image, ports } = JSON.parse(process.argv[2] ?? "{}") as { image: string; ports: { name: string; port: number; hostPort: number }[] };

const servers = ports.map(({ name, port, hostPort }) =>
  Bun.serve({
    hostname: "127.0.0.1",
    port: hostPort,
    fetch: () => new Response(`QDivZero local pod\nimage: ${image}\nport: ${port} (${name})\n`, { headers: { "content-type": "text/plain" } }),
  }),
);
// writeSync: stdout is the pod's log file, and a buffered write would not show until exit.
writeSync(1, `pod process up: ${ports.map((p) => `${p.name} ${p.port} → 127.0.0.1:${p.hostPort}`).join(", ")}\n`);

const stop = () => {
  for (const server of servers) server.stop(true);
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

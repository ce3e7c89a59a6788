/**
 * The floor for any proxy written on Bun: receive the request, `fetch` the
 * same bytes from the upstream (argv[2]), answer with its status, content
 * type and body stream. No auth, no routing, no firewall, no error handling:
 * what the qdz proxy costs above this is what its own work costs; what this
 * costs above `direct` is Bun's HTTP server plus its HTTP client, which no
 * Bun proxy avoids.
 *
 * Prints `{"port": N}` on stdout once listening on 127.0.0.1.
 */
import { announceAndServe } from "./parent";

const upstream = process.argv[2];
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 0,
  async fetch(request) {
    const answer = await fetch(`${upstream}${new URL(request.url).pathname}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: await request.bytes(),
    });
    return new Response(answer.body, { status: answer.status, headers: { "content-type": answer.headers.get("content-type") ?? "application/json" } });
  },
});

announceAndServe(server);

/**
 * The floor under `bench:heartbeats`: a bare `Bun.serve` taking the same posts as the api's /agent/heartbeat
 * and /agent/samples — reads each body, parses it as JSON and answers what the api answers to a live run's
 * report (200 `{"ok":true}`). No auth, no validation, no batching, no database: what the api costs above
 * this is its own work; this much any Bun server pays to take the posts at all.
 *
 * Prints `{"port": N}` on stdout once listening on 127.0.0.1.
 */
import { announceAndServe } from "./proxy/parent";

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    JSON.parse(await request.text());
    return Response.json({ ok: true });
  },
});

announceAndServe(server);

import { Elysia } from "elysia";
import type { Database } from "../db/client";
import { UnauthenticatedError } from "../src/errors";
import { heartbeatBody, sampleBody } from "../src/instances/agent-contract";
import { AgentDirectory } from "../src/instances/agent-directory";
import { handleHeartbeat, handleSamples } from "../src/instances/agent-reports";
import type { HeartbeatBatcher } from "../src/instances/heartbeats";
import type { JobQueue } from "../src/jobs/queue";
import type { CacheBus } from "../src/platform/cache-bus";
import { jsonBody, rest } from "./rest";

/**
 * A heartbeat carries at most 20,000 characters of an exited workload's last lines: up to 120 KB
 * when every one is a control character JSON escapes as `\u001b`. Samples are a few hundred bytes.
 */
export const AGENT_REPORT_MAX_BYTES = 128 * 1024;

/** The sidecar agents' reports, authenticated by each run's own token. 410 tells an agent its run is over. */
export function agentRoutes(db: Database, jobs: JobQueue, batcher: HeartbeatBatcher, cacheBus: CacheBus) {
  const agents = new AgentDirectory(db);
  cacheBus.subscribe(agents);
  // The flush writes only live runs: the beats it could not record tell the directory which runs have ended.
  batcher.onEnded((runIds) => agents.markEnded(runIds));
  const authenticate = async (request: Request) => {
    const token = /^Bearer\s+(qdza_\S+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
    const run = token ? await agents.resolve(token) : null;
    if (!run) throw new UnauthenticatedError("Unknown agent token.");
    return run;
  };
  const answer = (outcome: "ok" | "gone") => (outcome === "gone" ? new Response(JSON.stringify({ error: "this run is over" }), { status: 410 }) : { ok: true });

  return new Elysia({ name: "agent" })
    .post(
      "/agent/heartbeat",
      ({ request }) =>
        rest(async () =>
          answer(await handleHeartbeat(db, jobs, batcher, await authenticate(request), await jsonBody(request, heartbeatBody, AGENT_REPORT_MAX_BYTES))),
        ),
      { parse: "none" },
    )
    .post(
      "/agent/samples",
      ({ request }) =>
        rest(async () => answer(handleSamples(batcher, await authenticate(request), await jsonBody(request, sampleBody, AGENT_REPORT_MAX_BYTES)))),
      { parse: "none" },
    );
}

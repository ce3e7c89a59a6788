import { Elysia } from "elysia";
import { z } from "zod";
import type { Database } from "../db/client";
import { AgentDirectory, handleHeartbeat, handleSamples } from "../src/instances/agent-reports";
import type { HeartbeatBatcher } from "../src/instances/heartbeats";
import type { JobQueue } from "../src/jobs/queue";
import { UnauthenticatedError } from "../src/errors";
import { jsonBody, rest } from "./rest";

const nullableNumber = z.number().finite().nullable();
const heartbeat = z.object({
  runId: z.string(),
  at: z.iso.datetime({ offset: true }),
  workload: z.discriminatedUnion("state", [
    z.object({ state: z.literal("starting"), phase: z.string().max(64), progress: z.number().min(0).max(1).nullable(), message: z.string().max(500) }),
    z.object({ state: z.literal("ready") }),
    z.object({ state: z.literal("exited"), exitCode: z.number().int().nullable(), signal: z.string().max(32).nullable(), lastLines: z.string().max(20_000) }),
  ]),
});
const sample = z.object({
  runId: z.string(),
  at: z.iso.datetime({ offset: true }),
  cpuPercent: nullableNumber,
  memoryUsedBytes: nullableNumber,
  memoryTotalBytes: nullableNumber,
  diskUsedBytes: nullableNumber,
  diskTotalBytes: nullableNumber,
  gpuUtilPercent: nullableNumber,
  vramUsedBytes: nullableNumber,
  vramTotalBytes: nullableNumber,
  gpuTemperatureC: nullableNumber,
});

/** The sidecar agents' reports, authenticated by each run's own token. 410 tells an agent its run is over. */
export function agentRoutes(db: Database, jobs: JobQueue, batcher: HeartbeatBatcher) {
  const agents = new AgentDirectory(db);
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
      ({ request }) => rest(async () => answer(await handleHeartbeat(db, jobs, batcher, await authenticate(request), await jsonBody(request, heartbeat)))),
      { parse: "none" },
    )
    .post(
      "/agent/samples",
      ({ request }) => rest(async () => answer(handleSamples(batcher, await authenticate(request), await jsonBody(request, sample)))),
      { parse: "none" },
    );
}

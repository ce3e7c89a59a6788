import { and, eq, isNull, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { instanceRuns, instances } from "../../db/schema";
import { modelNotFound, ProxyError } from "./errors";

/** What a serving name resolves to within one account. */
export type Route = { kind: "missing" } | { kind: "instance"; instanceId: string; state: string; runtimeUrl: string | null; runtimeId: string | null };

/**
 * The instance an account serves under `servingName`, with its current pod's
 * runtime URL. The upstream comes only from here: nothing in the client's
 * request (headers, body fields such as `api_base`) can point the proxy
 * anywhere else.
 */
export async function loadRoute(db: Executor, accountId: string, servingName: string): Promise<Route> {
  const [row] = await db
    .select({
      instanceId: instances.id,
      state: instances.state,
      runtimeId: sql<string | null>`${instances.runtimeConfig}->>'runtimeId'`,
      runtimeUrl: instanceRuns.runtimeUrl,
    })
    .from(instances)
    .leftJoin(instanceRuns, eq(instanceRuns.id, instances.currentRunId))
    .where(and(eq(instances.accountId, accountId), eq(instances.servingName, servingName), isNull(instances.deletedAt)))
    .limit(1);
  if (!row) return { kind: "missing" };
  return { kind: "instance", ...row };
}

export interface Upstream {
  instanceId: string;
  /** The runtime's base URL, without a trailing slash. */
  baseUrl: string;
  runtimeId: string | null;
}

/** The upstream to forward to, or the error a client should see instead. */
export function upstreamFor(route: Route, servingName: string): Upstream {
  if (route.kind === "missing") throw modelNotFound(servingName);
  if (route.state !== "running") throw notRunning(servingName, route.instanceId, route.state);
  if (!route.runtimeUrl) {
    // Running without a runtime URL: a plain pod that somehow got a serving name, or a run being replaced.
    throw new ProxyError(
      503,
      `The instance serving '${servingName}' has no runtime endpoint right now. Try again shortly.`,
      "server_error",
      "instance_unavailable",
      null,
      {
        "retry-after": "5",
      },
    );
  }
  return { instanceId: route.instanceId, baseUrl: route.runtimeUrl.replace(/\/+$/, ""), runtimeId: route.runtimeId };
}

const HINTS: Record<string, (id: string) => string> = {
  pending: () => "it is starting; try again in a few seconds",
  stopping: (id) => `it is being stopped; start it again with \`qdz instances start ${id}\` once it has stopped`,
  stopped: (id) => `start it with \`qdz instances start ${id}\` or from the Instances page`,
  failed: (id) => `see its failure reason with \`qdz instances get ${id}\`, then start it again with \`qdz instances start ${id}\``,
  non_bootstrap: (id) => `its runtime never became healthy; see \`qdz instances get ${id}\`, then start it again with \`qdz instances start ${id}\``,
};

/** 409 naming the state; while pending, `Retry-After` says when the instance may be serving. */
export function notRunning(servingName: string, instanceId: string, state: string): ProxyError {
  const hint = HINTS[state]?.(instanceId) ?? "it is not serving";
  return new ProxyError(
    409,
    `instance '${servingName}' is ${state}; ${hint}.`,
    "invalid_request_error",
    "instance_not_running",
    "model",
    state === "pending" ? { "retry-after": "5" } : {},
  );
}

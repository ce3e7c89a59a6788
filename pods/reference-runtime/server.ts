import { timingSafeEqual } from "node:crypto";
import { type BootStatus, bootStatus } from "./boot";
import { chat, completions, embeddings, type Internals, listModels, oneModel } from "./endpoints";
import { badRequest, openAiErrorBody, RuntimeError } from "./errors";
import { type RuntimeOptions, type RuntimeOptionsInput, resolveOptions } from "./options";
import { GenerationTracker } from "./sse";

export { DESCRIPTION, OWNED_BY } from "./endpoints";

export interface ReferenceRuntime {
  readonly options: RuntimeOptions;
  /** The whole HTTP API; give it to Bun.serve, or call it directly in tests. */
  fetch(request: Request): Promise<Response>;
  bootStatus(): BootStatus;
  /** Generations in progress (streams and paced answers); it drops when a client goes away. */
  activeGenerations(): number;
}

export interface RuntimeDeps {
  /** Milliseconds; the boot clock and `created` come from it. */
  now?: () => number;
  /** One line per request; main.ts writes them to stdout. */
  log?: (line: string) => void;
}

type Task = RuntimeOptions["task"];

interface Endpoint {
  method: "GET" | "POST";
  /** The task an endpoint belongs to; undefined serves every task. */
  task?: Task;
  handle(request: Request, runtime: Internals): Promise<Response> | Response;
}

export function createReferenceRuntime(input: RuntimeOptionsInput, deps: RuntimeDeps = {}): ReferenceRuntime {
  const options = resolveOptions(input);
  const now = deps.now ?? Date.now;
  const internals: Internals = { options, tracker: new GenerationTracker(), now, startedAt: now() };
  const status = () => bootStatus(now() - internals.startedAt, options.bootMs, options.model);

  async function fetch(request: Request): Promise<Response> {
    const started = performance.now();
    const url = new URL(request.url);
    let response: Response;
    try {
      response = await route(request, url.pathname, internals, status);
    } catch (error) {
      response = errorResponse(error instanceof RuntimeError ? error : internalError(error));
    }
    const requestId = `req_${crypto.randomUUID().replaceAll("-", "")}`;
    response.headers.set("x-request-id", requestId);
    deps.log?.(
      `${new Date(now()).toISOString()} ${request.method} ${url.pathname} ${response.status} ${Math.round(performance.now() - started)}ms ${requestId}`,
    );
    return response;
  }

  return { options, fetch, bootStatus: status, activeGenerations: () => internals.tracker.active };
}

const ENDPOINTS: Record<string, Endpoint> = {
  "/v1/models": { method: "GET", handle: listModels },
  "/v1/chat/completions": { method: "POST", task: "chat", handle: chat },
  "/v1/completions": { method: "POST", task: "chat", handle: completions },
  "/v1/embeddings": { method: "POST", task: "embeddings", handle: embeddings },
};

async function route(request: Request, rawPath: string, runtime: Internals, status: () => BootStatus): Promise<Response> {
  const path = rawPath.length > 1 ? rawPath.replace(/\/+$/, "") : rawPath;
  if (path === "/health") {
    if (request.method !== "GET" && request.method !== "HEAD") throw methodNotAllowed("GET");
    const current = status();
    return Response.json(current, { status: current.status === "ok" ? 200 : 503 });
  }
  if (path !== "/v1" && !path.startsWith("/v1/")) throw notFound(path);
  authorize(request, runtime.options.apiKey);
  const modelPath = /^\/v1\/models\/(.+)$/.exec(path);
  const endpoint: Endpoint | undefined = modelPath ? { method: "GET", handle: () => oneModel(modelPath[1]!, runtime) } : ENDPOINTS[path];
  if (!endpoint) throw notFound(path);
  if (request.method !== endpoint.method && !(endpoint.method === "GET" && request.method === "HEAD")) throw methodNotAllowed(endpoint.method);
  const current = status();
  if (current.status === "booting") {
    throw new RuntimeError(503, `The reference runtime is still booting (${current.phase}): ${current.message}`, "server_error", "runtime_booting");
  }
  if (endpoint.task && endpoint.task !== runtime.options.task) {
    throw badRequest(`This runtime serves the '${runtime.options.task}' task; ${path} is not available on it.`, null, "unsupported_task");
  }
  return endpoint.handle(request, runtime);
}

function authorize(request: Request, apiKey: string | undefined): void {
  if (!apiKey) return;
  const header = request.headers.get("authorization") ?? "";
  const given = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? "";
  const expected = Buffer.from(apiKey);
  const actual = Buffer.from(given);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new RuntimeError(401, "Missing or invalid API key. Send it as 'Authorization: Bearer <key>'.", "invalid_request_error", "invalid_api_key", null, {
      "www-authenticate": "Bearer",
    });
  }
}

function notFound(path: string): RuntimeError {
  return new RuntimeError(404, `No such path: ${path}`, "invalid_request_error", "not_found");
}

function methodNotAllowed(allowed: string): RuntimeError {
  return new RuntimeError(405, `Method not allowed; use ${allowed}.`, "invalid_request_error", "method_not_allowed", null, { allow: allowed });
}

/** A bug, not a bad request: logged in full, answered without details. */
function internalError(error: unknown): RuntimeError {
  console.error("reference runtime: unexpected error", error);
  return new RuntimeError(500, "The reference runtime failed unexpectedly.", "server_error", "internal_error");
}

function errorResponse(error: RuntimeError): Response {
  return Response.json(openAiErrorBody(error), { status: error.status, headers: error.headers });
}

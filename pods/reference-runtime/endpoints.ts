import type { z } from "zod";
import { chatCompletionResponse, chatStreamEvents, planChat } from "./chat";
import { completionResponse, completionStreamEvents, planCompletion } from "./completions";
import { createEmbeddings } from "./embeddings";
import { badRequest, fromZodError, RuntimeError } from "./errors";
import type { ResponseMeta } from "./generation";
import type { RuntimeOptions } from "./options";
import { chatRequest, completionRequest, embeddingRequest } from "./schemas";
import { type GenerationTracker, type StreamEvent, sleep, sseResponse } from "./sse";

/** The HTTP side of each endpoint: parse, plan with the pure modules, answer (streamed or not). */

/** What the runtime says it is wherever OpenAI's shapes leave room: it is not a model. */
export const OWNED_BY = "qdivzero-reference-runtime";
export const DESCRIPTION =
  "QDivZero reference runtime: deterministic placeholder output for running the platform without a GPU. Not a real model; no weights are loaded.";

/** The runtime's state every endpoint may use. */
export interface Internals {
  options: RuntimeOptions;
  tracker: GenerationTracker;
  now: () => number;
  startedAt: number;
}

/** The model card, which says plainly that this is the reference runtime. */
export function modelCard(options: RuntimeOptions, startedAt: number) {
  return {
    id: options.servedModelName,
    object: "model" as const,
    created: Math.floor(startedAt / 1000),
    owned_by: OWNED_BY,
    root: options.model,
    runtime: "reference",
    description: DESCRIPTION,
    task: options.task,
    max_model_len: options.maxModelLen,
    ...(options.task === "embeddings" ? { embedding_dimensions: options.embeddingDimensions } : {}),
  };
}

export function listModels(_request: Request, { options, startedAt }: Internals): Response {
  return Response.json({ object: "list", data: [modelCard(options, startedAt)] });
}

/** `rawId` is still percent-encoded; a broken encoding is just another unknown model. */
export function oneModel(rawId: string, { options, startedAt }: Internals): Response {
  let id: string;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    id = rawId;
  }
  if (id !== options.servedModelName) throw modelNotFound(id);
  return Response.json(modelCard(options, startedAt));
}

export async function chat(request: Request, runtime: Internals): Promise<Response> {
  const body = await parseBody(request, chatRequest, runtime.options);
  const plan = planChat(body, runtime.options);
  const meta = responseMeta("chatcmpl", runtime);
  if (body.stream) {
    return stream(chatStreamEvents(plan, meta, body.stream_options?.include_usage === true), request, runtime);
  }
  await pace(plan.steps, request, runtime);
  return Response.json(chatCompletionResponse(plan, meta));
}

export async function completions(request: Request, runtime: Internals): Promise<Response> {
  const body = await parseBody(request, completionRequest, runtime.options);
  const plan = planCompletion(body, runtime.options);
  const meta = responseMeta("cmpl", runtime);
  if (body.stream) {
    return stream(completionStreamEvents(plan, meta, body.stream_options?.include_usage === true), request, runtime);
  }
  await pace(plan.steps, request, runtime);
  return Response.json(completionResponse(plan, meta));
}

export async function embeddings(request: Request, runtime: Internals): Promise<Response> {
  const body = await parseBody(request, embeddingRequest, runtime.options);
  return Response.json(createEmbeddings(body, runtime.options));
}

function responseMeta(prefix: string, { options, now }: Internals): ResponseMeta {
  return { id: `${prefix}-${crypto.randomUUID().replaceAll("-", "")}`, created: Math.floor(now() / 1000), model: options.servedModelName };
}

function stream(events: Iterator<StreamEvent>, request: Request, { options, tracker }: Internals): Response {
  return sseResponse(events, { signal: request.signal, tokensPerSecond: options.tokensPerSecond, tracker });
}

/** A non-streamed answer takes as long as its stream would, so latency looks like a model's. */
async function pace(steps: number, request: Request, { options, tracker }: Internals): Promise<void> {
  if (options.tokensPerSecond <= 0 || steps === 0) return;
  const end = tracker.begin();
  try {
    await sleep((steps / options.tokensPerSecond) * 1000, request.signal);
  } finally {
    end();
  }
}

/** JSON, then the schema, then the model name: in that order, each a 4xx in OpenAI's shape. */
async function parseBody<T extends z.ZodType>(request: Request, schema: T, options: RuntimeOptions): Promise<z.output<T>> {
  let json: unknown;
  try {
    json = JSON.parse(await request.text());
  } catch {
    throw badRequest("The request body is not valid JSON.", null, "invalid_json");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw fromZodError(parsed.error);
  const model = (parsed.data as { model: string }).model;
  if (model !== options.servedModelName) throw modelNotFound(model);
  return parsed.data;
}

export function modelNotFound(model: string): RuntimeError {
  return new RuntimeError(404, `The model '${model}' does not exist on this runtime.`, "invalid_request_error", "model_not_found", "model");
}

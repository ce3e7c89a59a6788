import { Elysia } from "elysia";
import type { z } from "zod";
import type { Services } from "../server/services";
import type { Caller } from "../src/auth/caller";
import type { ApiKeyScope } from "../src/auth/scopes";
import type { AccountContext } from "../src/context";
import { RateLimitedError } from "../src/errors";
import { log } from "../src/platform/log";
import { SharedRateLimiter } from "../src/proxy/rate-limit";
import { leaseFromDatabase } from "../src/proxy/rate-limit-buckets";
import { authenticate, jsonBody, parseWith, rest } from "./rest";

/**
 * The REST surface for scripts (instances, schedules, usage, keys) as one table of operations: each names its
 * method, path, scope and the zod schemas it validates and answers with. The same table mounts the routes and
 * writes the OpenAPI document (routes/openapi/document.ts), so no route is undocumented and no documented route
 * is missing. Handlers are a few lines: parse, call the domain verb tRPC calls, shape the answer.
 */
export interface Operation {
  method: "get" | "post" | "patch" | "delete";
  /** In OpenAPI's form: `/v1/instances/{id}`. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /** The narrowest API key scope that may call it; "internal": only the scheduler's credential (billing debit). */
  scope: ApiKeyScope | "internal";
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Whether an `Idempotency-Key` header is honoured. */
  idempotencyKey?: boolean;
  response: z.ZodType;
  /** The success status (201 for a launch that made an instance). */
  status?: 200 | 201;
  /** Error statuses besides those every operation can answer (400, 401, 403, 429; 404 with an id in the path). */
  errors?: number[];
  /** Absent for operations mounted elsewhere (billing) that the document describes from the same schemas. */
  handle?: (call: Call) => Promise<unknown>;
}

export interface Call<Query = never, Body = never> {
  ctx: AccountContext & { caller: Caller };
  request: Request;
  /** The `{id}` path parameter ("" when the path has none). */
  id: string;
  query: Query;
  body: Body;
}

/** An answer with another status or headers than the operation's default (a replayed launch: 200 and a header). */
export class Answer<T> {
  constructor(
    readonly body: T,
    readonly status: number,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** A value that serialises to T: JSON writes a Date as the ISO string the schema describes. */
export type Sent<T> = T extends string ? T | Date : T extends readonly (infer U)[] ? Sent<U>[] : T extends object ? { [K in keyof T]: Sent<T[K]> } : T;

type Out<S> = S extends z.ZodType ? z.output<S> : never;

/**
 * Defines an operation, checking at compile time that what the handler returns serialises to the response
 * schema (the tests check the same at run time against the document).
 */
export function operation<
  const Q extends z.ZodObject | undefined = undefined,
  const B extends z.ZodType | undefined = undefined,
  const R extends z.ZodType = z.ZodType,
>(
  op: Omit<Operation, "handle" | "query" | "body" | "response"> & {
    query?: Q;
    body?: B;
    response: R;
    handle?: (call: Call<Out<Q>, Out<B>>) => Promise<Sent<z.output<R>> | Answer<Sent<z.output<R>>>>;
  },
): Operation {
  return op as Operation;
}

/** A launch, schedule or setting fits in well under this; anything larger is refused unread (413). */
export const REST_MAX_BODY_BYTES = 64 * 1024;

/** Mounts operations with their auth, per-caller rate limit, parsing and the REST error shape. */
export function mountOperations(name: string, services: Services, operations: Operation[]) {
  const { db, config } = services;
  // The same per-minute allowance as /v1, in buckets of its own (`rest:` keys), shared by every api replica.
  const limiter = new SharedRateLimiter(config.V1_RATE_LIMIT_PER_MINUTE, leaseFromDatabase(db), {
    onLeaseError: (error) => log.warn({ err: error }, "rate limit: the shared bucket could not be asked; limiting REST on this replica alone"),
  });
  const app = new Elysia({ name });
  for (const op of operations) {
    const handle = op.handle;
    if (!handle || op.scope === "internal") continue;
    const scope = op.scope;
    const path = op.path.replace(/\{(\w+)\}/g, ":$1");
    // Elysia's route() adds to the instance itself; its chained types matter only to callers that use them.
    app.route(
      op.method.toUpperCase(),
      path,
      ({ request, params }: { request: Request; params?: Record<string, string> }) =>
        rest(async (requestId) => {
          const ctx = await authenticate(db, request, config.PUBLIC_URL, scope, services.keyUsage, requestId);
          const state = await limiter.take(`rest:${callerKey(ctx.caller)}`);
          if (!state.allowed) {
            const seconds = Math.max(1, Math.ceil(state.retryAfterMs / 1000));
            throw new RateLimitedError(`Too many requests: at most ${state.limit} a minute. Try again in ${seconds} s.`, seconds);
          }
          const query = op.query ? parseWith(op.query, Object.fromEntries(new URL(request.url).searchParams)) : undefined;
          const body = op.body ? await jsonBody(request, op.body, REST_MAX_BODY_BYTES) : undefined;
          const answer = await handle({ ctx, request, id: params?.id ?? "", query, body } as Call);
          if (answer instanceof Answer) return Response.json(answer.body, { status: answer.status, headers: answer.headers });
          return Response.json(answer, { status: op.status ?? 200 });
        }),
      { parse: "none" },
    );
  }
  return app;
}

function callerKey(caller: Caller): string {
  if (caller.actor.kind === "apiKey") return `key:${caller.actor.keyId}`;
  if (caller.actor.kind === "user") return `user:${caller.actor.userId}`;
  return `account:${caller.accountId}`;
}

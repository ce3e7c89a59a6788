import { z } from "zod";
import type { Operation } from "../rest-operations";
import { restError } from "./responses";

type JsonSchema = Record<string, unknown>;

const ERROR_WORDS: Record<number, string> = {
  400: "Invalid input: `field` names the body field, query parameter or header.",
  401: "No credential, or one that is not valid.",
  402: "The balance cannot pay for it (negative, or below the minimum runway).",
  403: "The API key's scope does not cover this operation (the message names the scopes that would), or a cross-site write.",
  404: "Not found: an id of another account answers exactly like a missing one.",
  409: "Conflict: the message names the state (e.g. an instance already stopped), a used name, a budget reached, or no capacity.",
  413: "The body is larger than the route takes.",
  429: "Too many requests: wait for `Retry-After` seconds.",
  500: "Something went wrong on the platform's side; the request id finds it in the logs.",
};

/** A JSON Schema from zod, without the per-document keys a schema inside an OpenAPI document does not carry. */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _s, $id: _i, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as JsonSchema;
  return rest;
}

const ref = (id: string) => `#/components/schemas/${id}`;

/** The named response schemas (`.meta({ id })`) as OpenAPI components, each referring to the others by $ref. */
function components(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(z.globalRegistry, { target: "draft-2020-12", io: "output", unrepresentable: "any", uri: ref }) as {
    schemas: Record<string, JsonSchema>;
  };
  return Object.fromEntries(Object.entries(schemas).map(([id, { $schema: _s, $id: _i, ...schema }]) => [id, schema]));
}

function responseSchema(schema: z.ZodType): JsonSchema {
  const id = z.globalRegistry.get(schema)?.id;
  return id ? { $ref: ref(id) } : jsonSchema(schema, "output");
}

function parameters(op: Operation): JsonSchema[] {
  const list: JsonSchema[] = [];
  if (op.path.includes("{id}")) list.push({ name: "id", in: "path", required: true, schema: { type: "string", minLength: 1, maxLength: 64 } });
  if (op.query) {
    const schema = jsonSchema(op.query, "input") as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      const { description, ...rest } = property;
      list.push({ name, in: "query", required: schema.required?.includes(name) ?? false, schema: rest, ...(description ? { description } : {}) });
    }
  }
  if (op.idempotencyKey) {
    list.push({
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description: "Any unique string (a UUID): a retry with the same key and body answers the first attempt's result and never acts twice.",
      schema: { type: "string", minLength: 1, maxLength: 255 },
    });
  }
  return list;
}

function errorResponses(op: Operation): Record<string, JsonSchema> {
  const statuses = new Set([400, 401, 403, 429, 500, ...(op.path.includes("{id}") ? [404] : []), ...(op.body ? [413] : []), ...(op.errors ?? [])]);
  const answers: Record<string, JsonSchema> = {};
  for (const status of [...statuses].sort()) {
    answers[String(status)] = {
      description: ERROR_WORDS[status] ?? "Error",
      ...(status === 429 ? { headers: { "Retry-After": { description: "Seconds to wait.", schema: { type: "integer" } } } } : {}),
      content: { "application/json": { schema: { $ref: ref("Error") } } },
    };
  }
  return answers;
}

function operationObject(op: Operation): JsonSchema {
  const status = String(op.status ?? 200);
  const success: Record<string, JsonSchema> = {
    [status]: { description: "Success", headers: requestIdHeader, content: { "application/json": { schema: responseSchema(op.response) } } },
  };
  if (op.idempotencyKey && status !== "200") {
    success["200"] = {
      description: "A retry with the same Idempotency-Key: the first attempt's result.",
      headers: { ...requestIdHeader, "Idempotent-Replayed": { schema: { type: "string", const: "true" } } },
      content: { "application/json": { schema: responseSchema(op.response) } },
    };
  }
  const scopeWords =
    op.scope === "internal"
      ? "Only the scheduler's credential (BILLING_INTERNAL_TOKEN)."
      : `An API key needs scope '${op.scope}' or wider; a signed-in session may call it.`;
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    description: [op.description, scopeWords].filter(Boolean).join("\n\n"),
    "x-required-scope": op.scope,
    security: op.scope === "internal" ? [{ schedulerToken: [] }] : [{ bearerAuth: [] }, { sessionCookie: [] }],
    parameters: parameters(op),
    ...(op.body ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(op.body, "input") } } } } : {}),
    responses: { ...success, ...errorResponses(op) },
  };
}

const requestIdHeader = { "x-request-id": { description: "The request's id, also in every error.", schema: { type: "string" } } };

/** The OpenAPI 3.1 document of the REST surface, written from the operations' own zod schemas. */
export function openApiDocument(operations: Operation[], serverUrl: string): JsonSchema {
  // Registered by the import above: the error shape every operation refers to.
  void restError;
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of operations) {
    paths[op.path] ??= {};
    paths[op.path]![op.method] = operationObject(op);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "QDivZero Compute REST API",
      version: "1",
      description:
        "Instances, metering, schedules, usage, keys, firewalls, budgets, notifications, SSH keys, runtimes, the audit trail and billing, for scripts in any language. Inference is OpenAI's API under /v1 (chat/completions, completions, embeddings, models), described by OpenAI's own document. Every error has one shape: {error: {code, message, field, request_id}}.",
    },
    servers: [{ url: serverUrl }],
    tags: [
      { name: "Instances", description: "Launch, inspect, change, start, stop and delete instances (rentals)." },
      { name: "Schedules", description: "Cron rules that start and stop an instance." },
      { name: "Usage", description: "Cost and active time, from what metering billed." },
      { name: "Keys", description: "The account's API keys (listing only)." },
      { name: "Firewalls", description: "Pre-prompt firewalls: ordered rules that block, redact or flag prompts before they reach an instance." },
      { name: "Budgets", description: "Monthly spend caps (UTC calendar month) for the account and its instances." },
      { name: "Notifications", description: "The account's alerts, newest first." },
      { name: "SSH keys", description: "Public keys written to every new pod's authorized_keys." },
      { name: "Runtimes", description: "Serving runtimes, and building them on the platform's machine." },
      { name: "Audit", description: "Who changed what in the account." },
      { name: "Billing", description: "Balance, ledger and top-ups." },
    ],
    paths,
    components: {
      schemas: components(),
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", description: "An API key (`qdz_…`) made on the API keys page, or a CLI session token." },
        sessionCookie: { type: "apiKey", in: "cookie", name: "qdz_session", description: "The web app's session; writes must come from the app's own origin." },
        schedulerToken: { type: "http", scheme: "bearer", description: "The platform's own scheduler credential." },
      },
    },
  };
}

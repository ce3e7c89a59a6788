/** Reading the platform's OpenAPI document (GET /openapi.json) for the API reference page. */

export interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  description?: string;
  default?: unknown;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

export interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required: boolean;
  description?: string;
  schema: Schema;
}

export interface OperationDoc {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  "x-required-scope": string;
  parameters: Parameter[];
  requestBody?: { content: { "application/json": { schema: Schema } } };
  responses: Record<string, { description: string; content?: { "application/json": { schema: Schema } } }>;
}

export interface OpenApiDocument {
  info: { title: string; version: string; description: string };
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, OperationDoc>>;
  components: { schemas: Record<string, Schema> };
}

export interface Endpoint extends OperationDoc {
  method: string;
  path: string;
}

/** The operations by tag, in the document's tag order, each tag's in path order. */
export function endpointsByTag(document: OpenApiDocument): { tag: string; description: string; endpoints: Endpoint[] }[] {
  const all = Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({ ...operation, method: method.toUpperCase(), path })),
  );
  return document.tags.map((tag) => ({ tag: tag.name, description: tag.description, endpoints: all.filter((endpoint) => endpoint.tags.includes(tag.name)) }));
}

/** A component's name from its `$ref`. */
export const refName = (ref: string) => ref.split("/").at(-1)!;

/** Follows a `$ref` into the document's components (one level: components refer to each other by name). */
export function resolve(document: OpenApiDocument, schema: Schema): Schema {
  return schema.$ref ? (document.components.schemas[refName(schema.$ref)] ?? {}) : schema;
}

/** A schema as a short type: `string`, `integer | null`, `Instance[]`, `"start" | "stop"`. */
export function typeLabel(schema: Schema): string {
  if (schema.$ref) return refName(schema.$ref);
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(" | ");
  if (schema.anyOf) return schema.anyOf.map(typeLabel).join(" | ");
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.includes("array")) return `${schema.items ? typeLabel(schema.items) : "any"}[]${types.includes("null") ? " | null" : ""}`;
  if (types.length === 0) return schema.properties ? "object" : "any";
  return types.map((type) => (type === "string" && schema.format ? `string (${schema.format})` : type)).join(" | ");
}

/** Limits worth reading beside a type: ranges, lengths, defaults. */
export function constraints(schema: Schema): string {
  const parts: string[] = [];
  const inner = schema.anyOf?.find((s) => s.type !== "null") ?? schema;
  if (inner.minimum !== undefined && inner.minimum > -1e15) parts.push(`≥ ${inner.minimum}`);
  if (inner.maximum !== undefined && inner.maximum < 1e15) parts.push(`≤ ${inner.maximum}`);
  if (inner.maxLength !== undefined) parts.push(`≤ ${inner.maxLength} chars`);
  if (schema.default !== undefined) parts.push(`default ${JSON.stringify(schema.default)}`);
  return parts.join(", ");
}

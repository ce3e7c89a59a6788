import type { Rng } from "./hash";
import { WORDS } from "./text";

/**
 * A value that validates against a JSON schema, built from the schema itself:
 * what the runtime answers for `response_format: json_schema` and for tool-call
 * arguments. It covers what structured outputs use (objects, arrays, strings,
 * numbers, integers, booleans, null, enum, const, required, $ref to $defs,
 * anyOf/oneOf/allOf, string formats, numeric and length bounds). It never
 * throws; where a schema asks for something it cannot build (a `pattern`, a
 * contradiction) the value is a best effort and may not validate.
 */
export function valueFromSchema(schema: unknown, rng: Rng): unknown {
  return generate(schema, { root: schema, rng, depth: 0, budget: { nodes: 0 } });
}

type Schema = Record<string, unknown>;

interface Context {
  root: unknown;
  rng: Rng;
  depth: number;
  /** Values built so far, shared by the whole walk: a request's schema must not make the runtime build millions. */
  budget: { nodes: number };
}

/** Past this depth only required properties and minimum array lengths are built, so recursive schemas end. */
const SHALLOW_DEPTH = 6;
/** Past this depth a schema gets the smallest value of its type (or null), whatever it asks. */
const MAX_DEPTH = 24;
/** Past this many values the walk goes shallow, past four times as many it builds smallest values only. */
const NODE_BUDGET = 5_000;
/** Caps on what a schema can make the runtime build. */
const MAX_ITEMS = 64;
const MAX_STRING = 4096;

function generate(schema: unknown, ctx: Context): unknown {
  if (schema === false) return null;
  if (!isSchema(schema)) return word(ctx.rng);
  ctx.budget.nodes++;
  if (ctx.depth > MAX_DEPTH || ctx.budget.nodes > NODE_BUDGET * 4) return smallest(schema);
  const inner = { ...ctx, depth: ctx.depth + 1 };

  if (typeof schema.$ref === "string") {
    const { $ref, ...rest } = schema;
    const target = resolvePointer(ctx.root, $ref);
    return generate(isSchema(target) ? { ...target, ...rest } : rest, inner);
  }
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return ctx.rng.pick(schema.enum);
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    const { allOf, ...rest } = schema;
    return generate(
      allOf.reduce<Schema>((merged, part) => mergeSchemas(merged, resolved(part, ctx.root)), rest),
      inner,
    );
  }
  for (const keyword of ["anyOf", "oneOf"] as const) {
    const options = schema[keyword];
    if (Array.isArray(options) && options.length > 0) {
      const { [keyword]: _dropped, ...rest } = schema;
      // The first option that is not null: the most useful one, and for oneOf
      // usually the only one that matches.
      const chosen = options.map((option) => resolved(option, ctx.root)).find((option) => option.type !== "null") ?? resolved(options[0], ctx.root);
      return generate(mergeSchemas(rest, chosen), inner);
    }
  }

  switch (typeOf(schema)) {
    case "object":
      return objectFrom(schema, inner);
    case "array":
      return arrayFrom(schema, inner);
    case "integer":
      return integerFrom(schema, ctx.rng);
    case "number":
      return numberFrom(schema, ctx.rng);
    case "boolean":
      return ctx.rng.next() < 0.5;
    case "null":
      return null;
    default:
      return stringFrom(schema, ctx);
  }
}

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function resolved(schema: unknown, root: unknown): Schema {
  if (!isSchema(schema)) return {};
  if (typeof schema.$ref !== "string") return schema;
  const { $ref, ...rest } = schema;
  const target = resolvePointer(root, $ref);
  return isSchema(target) ? { ...target, ...rest } : rest;
}

/** Only local references (`#`, `#/$defs/x`, `#/definitions/x`): a generator must not fetch. */
function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith("#")) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split("/").slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isSchema(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** allOf's parts combined: properties and required lists united, the rest overwritten in order. */
function mergeSchemas(base: Schema, extra: Schema): Schema {
  const merged: Schema = { ...base, ...extra };
  if (isSchema(base.properties) || isSchema(extra.properties)) {
    merged.properties = { ...(isSchema(base.properties) ? base.properties : {}), ...(isSchema(extra.properties) ? extra.properties : {}) };
  }
  const required = [...stringList(base.required), ...stringList(extra.required)];
  if (required.length > 0) merged.required = [...new Set(required)];
  return merged;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

function typeOf(schema: Schema): string {
  const declared = Array.isArray(schema.type) ? (schema.type.find((type) => type !== "null") ?? schema.type[0]) : schema.type;
  if (typeof declared === "string") return declared;
  if ("properties" in schema || "required" in schema || "additionalProperties" in schema) return "object";
  if ("items" in schema || "prefixItems" in schema) return "array";
  if ("minimum" in schema || "maximum" in schema || "multipleOf" in schema) return "number";
  return "string";
}

function smallest(schema: Schema): unknown {
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  switch (typeOf(schema)) {
    case "object":
      return {};
    case "array":
      return [];
    case "integer":
    case "number":
      return 0;
    case "boolean":
      return false;
    case "null":
      return null;
    default:
      return "";
  }
}

function shallow(ctx: Context): boolean {
  return ctx.depth > SHALLOW_DEPTH || ctx.budget.nodes > NODE_BUDGET;
}

function objectFrom(schema: Schema, ctx: Context): Record<string, unknown> {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = new Set(stringList(schema.required));
  const out: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(properties)) {
    // Optional properties too, so an answer shows the whole shape, until recursion has to end.
    if (shallow(ctx) && !required.has(name)) continue;
    out[name] = generate(property, ctx);
  }
  for (const name of required) {
    if (!(name in out)) out[name] = generate(extraPropertySchema(schema), ctx);
  }
  const minProperties = Math.min(clampCount(schema.minProperties, 0), MAX_ITEMS);
  for (let i = 0; Object.keys(out).length < minProperties && schema.additionalProperties !== false; i++) {
    out[`${word(ctx.rng)}_${i}`] = generate(extraPropertySchema(schema), ctx);
  }
  return out;
}

function extraPropertySchema(schema: Schema): unknown {
  return isSchema(schema.additionalProperties) ? schema.additionalProperties : { type: "string" };
}

function arrayFrom(schema: Schema, ctx: Context): unknown[] {
  const prefix = Array.isArray(schema.prefixItems) ? schema.prefixItems : [];
  const minItems = Math.min(clampCount(schema.minItems, 0), MAX_ITEMS);
  // A contradiction (maxItems < minItems) is settled in favour of minItems; items: false allows the prefix only.
  let upper = Math.max(minItems, Math.min(clampCount(schema.maxItems, MAX_ITEMS), MAX_ITEMS));
  if (schema.items === false) upper = Math.min(upper, Math.max(prefix.length, minItems));
  const wanted = shallow(ctx) ? minItems : ctx.rng.int(Math.max(minItems, 1), Math.max(minItems, Math.min(upper, 3)));
  const length = Math.min(Math.max(wanted, prefix.length), upper);
  const out: unknown[] = [];
  const seen = new Set<string>();
  // uniqueItems: a few extra tries for a fresh value, then give up rather than loop.
  for (let attempt = 0; out.length < length && attempt < length * 4 + 4; attempt++) {
    const index = out.length;
    const itemSchema = index < prefix.length ? prefix[index] : schema.items === undefined ? {} : schema.items;
    const value = generate(itemSchema, ctx);
    if (schema.uniqueItems === true) {
      const key = JSON.stringify(value);
      if (seen.has(key)) continue;
      seen.add(key);
    }
    out.push(value);
  }
  return out;
}

function clampCount(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.floor(value) : fallback;
}

function bounds(schema: Schema): { low: number | undefined; high: number | undefined; lowOpen: boolean; highOpen: boolean } {
  const finite = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : undefined);
  let low = finite(schema.minimum);
  let high = finite(schema.maximum);
  let lowOpen = false;
  let highOpen = false;
  const exclusiveLow = finite(schema.exclusiveMinimum);
  const exclusiveHigh = finite(schema.exclusiveMaximum);
  if (exclusiveLow !== undefined && (low === undefined || exclusiveLow >= low)) [low, lowOpen] = [exclusiveLow, true];
  if (exclusiveHigh !== undefined && (high === undefined || exclusiveHigh <= high)) [high, highOpen] = [exclusiveHigh, true];
  return { low, high, lowOpen, highOpen };
}

function integerFrom(schema: Schema, rng: Rng): number {
  const { low, high, lowOpen, highOpen } = bounds(schema);
  let min = low === undefined ? undefined : lowOpen ? Math.floor(low) + 1 : Math.ceil(low);
  let max = high === undefined ? undefined : highOpen ? Math.ceil(high) - 1 : Math.floor(high);
  min ??= max === undefined ? 0 : max - 100;
  max ??= min + 100;
  if (max < min) return min;
  const step = typeof schema.multipleOf === "number" && Number.isInteger(schema.multipleOf) && schema.multipleOf > 0 ? schema.multipleOf : 1;
  const first = Math.ceil(min / step);
  const last = Math.floor(max / step);
  if (last < first) return min;
  return rng.int(first, Math.min(last, first + 1000)) * step;
}

function numberFrom(schema: Schema, rng: Rng): number {
  const { low, high, lowOpen, highOpen } = bounds(schema);
  const step = typeof schema.multipleOf === "number" && schema.multipleOf > 0 && Number.isFinite(schema.multipleOf) ? schema.multipleOf : undefined;
  if (step !== undefined) {
    const min = low ?? (high === undefined ? 0 : high - 100 * step);
    const max = high ?? min + 100 * step;
    let first = Math.ceil(min / step);
    let last = Math.floor(max / step);
    if (lowOpen && first * step <= min) first++;
    if (highOpen && last * step >= max) last--;
    if (last < first) return min;
    // Multiplying an integer by the step, then rounding away float noise (0.1 * 3).
    return Number((rng.int(first, Math.min(last, first + 1000)) * step).toPrecision(12));
  }
  const min = low ?? (high === undefined ? 0 : high - 100);
  const max = high ?? min + 100;
  if (max < min) return min;
  if (max === min) return min;
  for (let tries = 0; tries < 8; tries++) {
    const value = Math.round((min + rng.next() * (max - min)) * 100) / 100;
    if (value < min || value > max || (lowOpen && value === min) || (highOpen && value === max)) continue;
    return value;
  }
  return (min + max) / 2;
}

function stringFrom(schema: Schema, ctx: Context): string {
  const { rng } = ctx;
  const min = Math.min(clampCount(schema.minLength, 0), MAX_STRING);
  const max = Math.min(clampCount(schema.maxLength, MAX_STRING), MAX_STRING);
  let value = formatted(typeof schema.format === "string" ? schema.format : undefined, rng);
  // Lengths count code points, as JSON Schema does; placeholder text is ASCII so length works.
  while (value.length < min) value += (value ? " " : "") + word(rng);
  if (value.length > max) value = value.slice(0, Math.max(max, min));
  // Long strings weigh on the budget too, or 20 000 of them at 4 KB each would be 80 MB.
  ctx.budget.nodes += Math.floor(value.length / 32);
  return value;
}

function formatted(format: string | undefined, rng: Rng): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const date = () => `20${two(rng.int(20, 30))}-${two(rng.int(1, 12))}-${two(rng.int(1, 28))}`;
  const time = () => `${two(rng.int(0, 23))}:${two(rng.int(0, 59))}:${two(rng.int(0, 59))}Z`;
  switch (format) {
    case "date-time":
      return `${date()}T${time()}`;
    case "date":
      return date();
    case "time":
      return time();
    case "email":
      return `${word(rng)}@example.com`;
    case "uri":
    case "url":
      return `https://example.com/${word(rng)}`;
    case "hostname":
      return `${word(rng)}.example.com`;
    case "ipv4":
      return `192.0.2.${rng.int(1, 254)}`;
    case "ipv6":
      return `2001:db8::${rng.int(1, 0xffff).toString(16)}`;
    case "uuid": {
      const hex = Array.from({ length: 32 }, () => rng.int(0, 15).toString(16)).join("");
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
    }
    default:
      return `${word(rng)} ${word(rng)}`;
  }
}

function word(rng: Rng): string {
  return rng.pick(WORDS);
}

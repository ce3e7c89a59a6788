import { describe, expect, test } from "bun:test";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import fc from "fast-check";
import { rngFor } from "../../pods/reference-runtime/hash";
import { valueFromSchema } from "../../pods/reference-runtime/json-schema";

// multipleOfPrecision: 0.3 is a multiple of 0.1, though 0.3 / 0.1 is not an integer in floating point.
const ajv = new Ajv2020({ strict: false, allErrors: true, multipleOfPrecision: 9 });
addFormats(ajv);

/** Generates from `schema` under many seeds and checks every value validates. */
function expectAlwaysValid(schema: Record<string, unknown>, seeds = 50): unknown[] {
  const validate = ajv.compile(schema);
  const values: unknown[] = [];
  for (let seed = 0; seed < seeds; seed++) {
    const value = valueFromSchema(schema, rngFor("json-schema-test", String(seed)));
    if (!validate(value)) throw new Error(`${JSON.stringify(value)} fails ${JSON.stringify(schema)}: ${ajv.errorsText(validate.errors)}`);
    values.push(value);
  }
  return values;
}

const weather = {
  type: "object",
  properties: {
    location: { type: "string", description: "City and country" },
    unit: { type: "string", enum: ["celsius", "fahrenheit"] },
    days: { type: "integer", minimum: 1, maximum: 14 },
    hourly: { type: "boolean" },
  },
  required: ["location", "unit"],
  additionalProperties: false,
};

describe("valueFromSchema", () => {
  test("builds every property of an object, required or not", () => {
    for (const value of expectAlwaysValid(weather)) {
      expect(Object.keys(value as object).sort()).toEqual(["days", "hourly", "location", "unit"]);
    }
  });

  test("is deterministic per seed and varies between seeds", () => {
    const a = valueFromSchema(weather, rngFor("a"));
    expect(valueFromSchema(weather, rngFor("a"))).toEqual(a);
    const many = new Set(Array.from({ length: 20 }, (_, i) => JSON.stringify(valueFromSchema(weather, rngFor(String(i))))));
    expect(many.size).toBeGreaterThan(10);
  });

  test("scalars: strings, numbers, integers, booleans, null, enum, const", () => {
    expectAlwaysValid({ type: "string" });
    expectAlwaysValid({ type: "number" });
    expectAlwaysValid({ type: "integer" });
    expectAlwaysValid({ type: "boolean" });
    expectAlwaysValid({ type: "null" });
    expectAlwaysValid({ enum: ["a", 1, null, { b: 2 }] });
    expect(expectAlwaysValid({ const: { fixed: [1, 2] } })[0]).toEqual({ fixed: [1, 2] });
    expect(new Set(expectAlwaysValid({ type: "boolean" }))).toEqual(new Set([true, false]));
  });

  test("numeric bounds, exclusive bounds and multipleOf", () => {
    expectAlwaysValid({ type: "integer", minimum: -5, maximum: 5 });
    expectAlwaysValid({ type: "integer", exclusiveMinimum: 0, exclusiveMaximum: 2 });
    expectAlwaysValid({ type: "integer", minimum: 1000 });
    expectAlwaysValid({ type: "integer", maximum: -1000 });
    expectAlwaysValid({ type: "integer", minimum: 3, maximum: 50, multipleOf: 7 });
    expectAlwaysValid({ type: "number", minimum: 0.5, maximum: 0.75 });
    expectAlwaysValid({ type: "number", exclusiveMinimum: 0, exclusiveMaximum: 0.01 });
    expectAlwaysValid({ type: "number", minimum: 0, maximum: 1, multipleOf: 0.1 });
    expectAlwaysValid({ type: "number", minimum: 2, maximum: 2 });
  });

  test("string lengths and formats", () => {
    expectAlwaysValid({ type: "string", minLength: 30 });
    expectAlwaysValid({ type: "string", maxLength: 3 });
    expectAlwaysValid({ type: "string", minLength: 5, maxLength: 5 });
    for (const format of ["date-time", "date", "time", "email", "uri", "hostname", "ipv4", "ipv6", "uuid"]) {
      expectAlwaysValid({ type: "string", format });
    }
  });

  test("arrays: items, length bounds, uniqueness, tuples", () => {
    expectAlwaysValid({ type: "array", items: { type: "integer" } });
    expectAlwaysValid({ type: "array", items: { type: "string" }, minItems: 5, maxItems: 7 });
    expectAlwaysValid({ type: "array", items: { type: "integer", minimum: 0, maximum: 100 }, minItems: 4, uniqueItems: true });
    expectAlwaysValid({ type: "array", maxItems: 0 });
    expectAlwaysValid({ type: "array", prefixItems: [{ type: "string" }, { type: "integer" }], items: false });
    expectAlwaysValid({ type: "array", items: weather, minItems: 1 });
  });

  test("$ref to $defs and definitions, including recursive schemas", () => {
    expectAlwaysValid({
      $defs: { person: { type: "object", properties: { name: { type: "string" }, age: { type: "integer", minimum: 0 } }, required: ["name", "age"] } },
      type: "object",
      properties: { author: { $ref: "#/$defs/person" }, reviewers: { type: "array", items: { $ref: "#/$defs/person" } } },
      required: ["author"],
    });
    expectAlwaysValid({ definitions: { id: { type: "string", format: "uuid" } }, type: "array", items: { $ref: "#/definitions/id" } });
    // A tree: optional children recurse until the depth limit, then stop.
    const tree = {
      $defs: {
        node: { type: "object", properties: { label: { type: "string" }, children: { type: "array", items: { $ref: "#/$defs/node" } } }, required: ["label"] },
      },
      $ref: "#/$defs/node",
    };
    expectAlwaysValid(tree, 10);
  });

  test("anyOf, oneOf, allOf and type lists", () => {
    expectAlwaysValid({ anyOf: [{ type: "null" }, { type: "string", minLength: 2 }] });
    expect(expectAlwaysValid({ anyOf: [{ type: "null" }, { type: "integer" }] }).every((value) => typeof value === "number")).toBe(true);
    expectAlwaysValid({ oneOf: [{ type: "string" }, { type: "integer" }] });
    expectAlwaysValid({ type: ["string", "null"] });
    expectAlwaysValid({
      allOf: [
        { type: "object", properties: { a: { type: "string" } }, required: ["a"] },
        { properties: { b: { type: "integer" } }, required: ["b"] },
      ],
    });
    expectAlwaysValid({ type: "object", properties: { kind: { type: "string" } }, anyOf: [{ required: ["kind"] }] });
  });

  test("objects: required names without properties, minProperties, additionalProperties", () => {
    expectAlwaysValid({ type: "object", required: ["x", "y"] });
    expectAlwaysValid({ type: "object", minProperties: 3, additionalProperties: { type: "integer" } });
    expectAlwaysValid({ type: "object", properties: {}, additionalProperties: false });
    expectAlwaysValid({ properties: { implied: { type: "boolean" } } });
  });

  test("a structured-output schema as OpenAI documents them", () => {
    expectAlwaysValid({
      type: "object",
      properties: {
        steps: {
          type: "array",
          items: {
            type: "object",
            properties: { explanation: { type: "string" }, output: { type: "string" } },
            required: ["explanation", "output"],
            additionalProperties: false,
          },
        },
        final_answer: { type: "string" },
      },
      required: ["steps", "final_answer"],
      additionalProperties: false,
    });
  });

  test("never throws and never runs away, whatever the schema", () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 4 }), fc.string(), (schema, seed) => {
        const value = valueFromSchema(schema, rngFor(seed));
        expect(JSON.stringify(value ?? null).length).toBeLessThan(2_000_000);
      }),
      { numRuns: 1000 },
    );
    // Self-referencing required properties and huge counts end too.
    valueFromSchema({ type: "object", properties: { self: { $ref: "#" } }, required: ["self"] }, rngFor("loop"));
    valueFromSchema({ type: "array", minItems: 1e9, items: { type: "array", minItems: 1e9 } }, rngFor("huge"));
    valueFromSchema({ type: "string", minLength: 1e12 }, rngFor("long"));
    valueFromSchema({ $ref: "https://example.com/remote.json" }, rngFor("remote"));
    valueFromSchema({ type: "integer", minimum: 10, maximum: 1 }, rngFor("contradiction"));
  });

  test("a wide, deep schema stays within the node budget", () => {
    const level = (depth: number): Record<string, unknown> =>
      depth === 0
        ? { type: "string" }
        : {
            type: "object",
            properties: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`p${i}`, { type: "array", minItems: 3, items: level(depth - 1) }])),
          };
    const started = performance.now();
    const value = valueFromSchema(level(6), rngFor("wide"));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(JSON.stringify(value).length).toBeLessThan(5_000_000);
  });
});

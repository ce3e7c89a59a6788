/**
 * Validates values against the schemas of OpenAI's OpenAPI document
 * (/work/shared/contracts/openai-openapi.json, OpenAPI 3.1):
 *
 *   validateAgainst("CreateChatCompletionResponse", body)  // → [] when valid
 *   expectValid("ErrorResponse", body)                      // bun:test assertion
 *
 * The 3.4 MB document is read on first use and kept; each schema is compiled
 * the first time it is asked for, its `$ref`s resolved within the document.
 */

import { expect } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { projectRoot } from "../../src/config";

// shared/ sits beside the checkout (here and in CI's fresh clone).
export const OPENAI_OPENAPI_PATH = process.env.OPENAI_OPENAPI_PATH ?? join(projectRoot, "..", "shared", "contracts", "openai-openapi.json");

const DOCUMENT_ID = "openai-openapi";

let ajv: Ajv2020 | undefined;
let schemaNames: Set<string> | undefined;
const compiled = new Map<string, ValidateFunction>();

function validator(): { ajv: Ajv2020; names: Set<string> } {
  if (!ajv || !schemaNames) {
    const document = JSON.parse(readFileSync(OPENAI_OPENAPI_PATH, "utf8")) as { components: { schemas: Record<string, unknown> } };
    const schemas = withNullable(document.components.schemas) as Record<string, unknown>;
    schemaNames = new Set(Object.keys(schemas));
    // strict: false, because the document carries OpenAPI keywords (discriminator,
    // x-oaiMeta, x-stainless-const, example) that are not JSON Schema.
    ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, discriminator: false });
    addFormats(ajv);
    // OpenAI's own formats: only their JSON type matters for a response check.
    for (const name of ["unixtime", "int64", "double", "float"]) ajv.addFormat(name, { type: "number", validate: (_: number) => true });
    ajv.addFormat("binary", { type: "string", validate: (_: string) => true });
    ajv.addSchema({ $id: DOCUMENT_ID, components: { schemas } });
  }
  return { ajv, names: schemaNames };
}

/**
 * OpenAPI 3.0's `nullable: true` survives in parts of the document (the stream
 * chunk's finish_reason, usage, logprobs). JSON Schema ignores it, which would
 * reject the nulls OpenAI sends; it becomes `anyOf: [schema, {type: null}]`.
 */
function withNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withNullable);
  if (!node || typeof node !== "object") return node;
  const { nullable, ...rest } = node as Record<string, unknown>;
  const converted = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, withNullable(value)]));
  return nullable === true ? { anyOf: [converted, { type: "null" }] } : converted;
}

function compile(schemaName: string): ValidateFunction {
  let validate = compiled.get(schemaName);
  if (!validate) {
    const { ajv, names } = validator();
    if (!names.has(schemaName)) throw new Error(`OpenAI's OpenAPI document has no schema named '${schemaName}'`);
    validate = ajv.compile({ $ref: `${DOCUMENT_ID}#/components/schemas/${schemaName.replace(/~/g, "~0").replace(/\//g, "~1")}` });
    compiled.set(schemaName, validate);
  }
  return validate;
}

/** The errors of `value` against `components.schemas[schemaName]`, as readable lines; empty when valid. */
export function validateAgainst(schemaName: string, value: unknown): string[] {
  const validate = compile(schemaName);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((error) => {
    const where = error.instancePath || "(root)";
    const detail = error.params && Object.keys(error.params).length > 0 ? ` ${JSON.stringify(error.params)}` : "";
    return `${schemaName}${where === "(root)" ? "" : where}: ${error.message ?? error.keyword}${detail}`;
  });
}

/** Fails the current test with every error when `value` does not match the schema. */
export function expectValid(schemaName: string, value: unknown): void {
  const errors = validateAgainst(schemaName, value);
  if (errors.length > 0) {
    throw new Error(`Not a valid ${schemaName}:\n  ${errors.join("\n  ")}\nValue: ${JSON.stringify(value, null, 2).slice(0, 4000)}`);
  }
  expect(errors).toEqual([]);
}

/** Whether the document defines a schema of that name (for tests that pick schemas dynamically). */
export function hasSchema(schemaName: string): boolean {
  return validator().names.has(schemaName);
}

/**
 * Checks REST answers against the platform's own OpenAPI document (GET /openapi.json), the way
 * tests/support/openapi.ts checks /v1 answers against OpenAI's: the response schema of the
 * operation and status, compiled with its `$ref`s resolved within the document.
 *
 *   const rest = restClient(url);
 *   const { status, body } = await rest.call("GET", "/v1/instances/{id}", { id, token });  // validated
 */
import { expect } from "bun:test";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";

type Document = {
  paths: Record<string, Record<string, { responses: Record<string, { content?: { "application/json": { schema: unknown } } }> }>>;
  components: { schemas: Record<string, unknown> };
};

export interface RestAnswer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface CallOptions {
  token?: string | null;
  id?: string;
  query?: Record<string, string | number>;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A client that validates every answer against the document it was given. */
export function restClient(document: Document, send: (request: Request) => Promise<Response>, origin = "http://localhost:3000") {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: "rest", components: document.components });
  const compiled = new Map<string, ValidateFunction>();

  function validatorFor(method: string, template: string, status: number): ValidateFunction {
    const key = `${method} ${template} ${status}`;
    let validate = compiled.get(key);
    if (!validate) {
      const operation = document.paths[template]?.[method.toLowerCase()];
      if (!operation) throw new Error(`The document has no ${method} ${template}`);
      const response = operation.responses[String(status)];
      if (!response) throw new Error(`The document gives ${method} ${template} no ${status} answer`);
      const schema = JSON.parse(JSON.stringify(response.content!["application/json"].schema).replaceAll('"#/components/', '"rest#/components/'));
      validate = ajv.compile(schema);
      compiled.set(key, validate);
    }
    return validate;
  }

  /** Sends the call and fails the test when the answer is not what the document says this route answers. */
  async function call<T = any>(method: string, template: string, options: CallOptions = {}): Promise<RestAnswer<T>> {
    const path = template.replace("{id}", encodeURIComponent(options.id ?? ""));
    const url = new URL(`${origin}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, String(value));
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const response = await send(
      new Request(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body),
      }),
    );
    const body = await response.json();
    const validate = validatorFor(method, template, response.status);
    if (!validate(body)) {
      throw new Error(
        `${method} ${template} answered ${response.status} off the document:\n${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 3000)}`,
      );
    }
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
    return { status: response.status, body: body as T, headers: response.headers };
  }

  return { call };
}

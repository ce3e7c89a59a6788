import type { z } from "zod";

/**
 * The runtime's one error type, carrying what OpenAI's error body needs.
 * Handlers throw it; the server turns it into `{error:{message,type,param,code}}`.
 */
export class RuntimeError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    /** Extra response headers (Allow on a 405, WWW-Authenticate on a 401). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function badRequest(message: string, param: string | null = null, code: string | null = null): RuntimeError {
  return new RuntimeError(400, message, "invalid_request_error", code, param);
}

export function openAiErrorBody(error: RuntimeError) {
  return { error: { message: error.message, type: error.type, param: error.param, code: error.code } };
}

/** The first zod issue as a 400, its path written the way OpenAI names parameters (`messages[0].role`). */
export function fromZodError(error: z.ZodError): RuntimeError {
  const issue = error.issues[0];
  if (!issue) return badRequest("Invalid request body.");
  const param = issue.path.reduce<string>((out, part) => (typeof part === "number" ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), "");
  const message = param ? `Invalid value for '${param}': ${issue.message}` : `Invalid request body: ${issue.message}`;
  return badRequest(message, param || null, "invalid_value");
}

/**
 * Where `llama-server`'s answers differ from OpenAI's schemas, and the fix.
 * Measured against OpenAI's OpenAPI document (tests/integration/llama-cpp.test.ts):
 * its chat completions leave out `choices[].logprobs` and `message.refusal`
 * (both required, nullable), and its errors carry the HTTP status as a
 * numeric `code` and no `param`. Streamed chunks, completions, embeddings
 * and the model list already conform. The `/v1` proxy applies these to
 * llama.cpp instances' responses, so clients see one contract whatever runs.
 */

interface LlamaChatCompletion {
  choices?: { logprobs?: unknown; message?: { refusal?: unknown } }[];
  [key: string]: unknown;
}

export function conformChatCompletion<T extends LlamaChatCompletion>(body: T): T {
  return {
    ...body,
    choices: body.choices?.map((choice) => ({
      ...choice,
      logprobs: choice.logprobs ?? null,
      ...(choice.message ? { message: { ...choice.message, refusal: choice.message.refusal ?? null } } : {}),
    })),
  };
}

export interface OpenAIError {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/**
 * `{error:{code: 400, message, type, …}}` → OpenAI's error. llama.cpp's types
 * are OpenAI's names already, except the context overflow, which OpenAI
 * reports as an invalid request with code `context_length_exceeded`.
 */
export function conformError(body: unknown, status: number): OpenAIError {
  const error = (body as { error?: { message?: unknown; type?: unknown } } | null)?.error;
  const message = typeof error?.message === "string" ? error.message : `the runtime answered ${status}`;
  const type = typeof error?.type === "string" ? error.type : status >= 500 ? "server_error" : "invalid_request_error";
  if (type === "exceed_context_size_error") {
    return { error: { message, type: "invalid_request_error", param: "messages", code: "context_length_exceeded" } };
  }
  return { error: { message, type, param: null, code: null } };
}

/**
 * The playground's calls: the same /v1 any client uses, authenticated by the
 * session cookie (the proxy accepts it from this origin only), so what the
 * playground shows is what an SDK would get.
 */

import { API_KEY_ENV } from "#lib/instances.ts";

// The proxy's names for these (src/proxy/firewall-choice.ts): the web bundle cannot import server code.
export const FIREWALL_HEADER = "x-qdz-firewall";
/** The dropdown's "No firewall": honoured by the proxy for an owner's session only. */
export const NO_FIREWALL = "none";
const REDACTED_HEADER = "x-qdz-firewall-redacted";

/** A prompt text a firewall redacted: where it sits in the body and, unless it was too long to send back, what the model received. */
export interface RedactedText {
  field: string;
  text?: string;
}

/** The texts the firewall redacted before the model saw them; empty when it changed nothing. */
export function redactedTexts(response: Response): RedactedText[] {
  const header = response.headers.get(REDACTED_HEADER);
  if (!header) return [];
  try {
    return JSON.parse(decodeURIComponent(header)) as RedactedText[];
  } catch {
    return [];
  }
}

/** A /v1 answer that was not a success, with the proxy's own message (firewall rule, stopped instance…). */
export class V1Error extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null,
  ) {
    super(message);
  }
}

export async function v1Post(path: string, body: unknown, options: { firewallId?: string; signal?: AbortSignal } = {}): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.firewallId) headers[FIREWALL_HEADER] = options.firewallId;
  const response = await fetch(`/v1${path}`, { method: "POST", credentials: "same-origin", headers, body: JSON.stringify(body), signal: options.signal });
  if (!response.ok) throw await v1Error(response);
  return response;
}

async function v1Error(response: Response): Promise<V1Error> {
  const text = await response.text().catch(() => "");
  try {
    const { error } = JSON.parse(text) as { error?: { message?: string; code?: string | null } };
    if (error?.message) return new V1Error(error.message, response.status, error.code ?? null);
  } catch {
    // Not OpenAI's shape (a proxy in between, an html page): say what we know.
  }
  return new V1Error(`The endpoint answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}.`, response.status, null);
}

/** Reads an OpenAI SSE stream, calling `onDelta` with each piece of content as it arrives. */
export async function readChatStream(response: Response, onDelta: (text: string) => void): Promise<void> {
  if (!response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    // Events end with a blank line; a partial one waits for the next chunk.
    for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data:")) continue;
        const data = line.slice(5).trim();
        if (data === "[DONE]") return;
        const chunk = JSON.parse(data) as { choices?: { delta?: { content?: string | null } }[]; error?: { message?: string } };
        if (chunk.error?.message) throw new V1Error(chunk.error.message, 200, null);
        const text = chunk.choices?.[0]?.delta?.content;
        if (text) onDelta(text);
      }
    }
  }
}

/** The request as a curl command with an API key, for copying into a terminal. */
export function curlFor(baseUrl: string, path: string, body: unknown, firewallId: string): string {
  const json = JSON.stringify(body, null, 2).replaceAll("'", "'\\''");
  // "No firewall" is the playground's alone: an API key is always screened, so the command leaves it out.
  const firewall = firewallId && firewallId !== NO_FIREWALL ? `\n  -H "${FIREWALL_HEADER}: ${firewallId}" \\` : "";
  return `curl ${baseUrl}${path} \\
  -H "Authorization: Bearer $${API_KEY_ENV}" \\
  -H "Content-Type: application/json" \\${firewall}
  -d '${json}'`;
}

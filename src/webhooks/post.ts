import { InvalidInputError } from "../errors";
import { connectionTo } from "../proxy/images/fetch-image";
import { verifiedTls } from "../proxy/images/tls";
import { SIGNATURE_HEADER, signatureHeader } from "./signature";
import { checkWebhookUrl, type UrlPolicy } from "./url-policy";

export const USER_AGENT = "QDivZero-Webhooks/1";
export const DELIVERY_HEADER = "QDZ-Delivery";
/** How much of a response the log keeps; the rest is never read. */
export const RESPONSE_EXCERPT_BYTES = 2048;

/** What one POST came to, in the delivery log's words: a status code, an error, or both (a non-2xx answer). */
export interface Answer {
  statusCode: number | null;
  error: string | null;
}

export interface SignedPost {
  url: string;
  deliveryId: string;
  /** The stored bytes, sent as they are: the signature covers exactly these. */
  payload: string;
  secret: string;
}

/**
 * POSTs a signed payload to an endpoint, once, within `timeoutMs` (DNS, connection, response headers and the
 * logged excerpt). Never throws: every way it can go wrong is an answer for the log.
 */
export async function postSigned(target: SignedPost, policy: UrlPolicy, timeoutMs: number): Promise<Answer> {
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    return await send(target, policy, deadline);
  } catch (error) {
    if (deadline.aborted) return { statusCode: null, error: `No answer within ${timeoutMs / 1000} s.` };
    if (error instanceof InvalidInputError) return { statusCode: null, error: error.message };
    const code = (error as { code?: unknown }).code;
    return { statusCode: null, error: `Could not reach the endpoint: ${typeof code === "string" ? `${code}, ` : ""}${(error as Error).message}` };
  }
}

async function send({ url, deliveryId, payload, secret }: SignedPost, policy: UrlPolicy, deadline: AbortSignal): Promise<Answer> {
  // Checked again at every attempt: what the name resolves to may have changed since it was set.
  const checked = await beforeDeadline(checkWebhookUrl(url, policy), deadline);
  // To the address just checked, the name as Host and TLS server name: a second DNS answer cannot move it.
  const connection = connectionTo(checked.url, checked.address, checked.literal);
  const init: BunFetchRequestInit = {
    method: "POST",
    headers: {
      host: connection.host,
      "content-type": "application/json",
      "user-agent": USER_AGENT,
      // Signed now, not when queued: a receiver's tolerance window is measured from this attempt.
      [SIGNATURE_HEADER]: signatureHeader(payload, secret),
      [DELIVERY_HEADER]: deliveryId,
    },
    body: payload,
    // A redirect is a failure: following one would POST to a URL nobody checked.
    redirect: "manual",
    signal: deadline,
    tls: checked.url.protocol === "https:" ? verifiedTls(connection.serverName, undefined) : undefined,
  };
  const response = await fetch(connection.href, init);
  if (response.status >= 300 && response.status < 400) {
    void response.body?.cancel().catch(() => {});
    const location = response.headers.get("location");
    return {
      statusCode: response.status,
      error: `Redirected${location ? ` to ${location.slice(0, 500)}` : ""}; redirects are not followed: set the final URL as the endpoint.`,
    };
  }
  if (response.ok) {
    void response.body?.cancel().catch(() => {});
    return { statusCode: response.status, error: null };
  }
  const excerpt = await readExcerpt(response);
  return { statusCode: response.status, error: `HTTP ${response.status}${excerpt ? `: ${excerpt}` : ""}` };
}

/** At most RESPONSE_EXCERPT_BYTES of the body, as text PostgreSQL can store; the rest is cancelled unread. */
async function readExcerpt(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // Cut off (the deadline, a reset): what arrived is still worth logging.
  } finally {
    void reader.cancel().catch(() => {});
  }
  const bytes = Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES);
  // A cut through a UTF-8 sequence decodes as U+FFFD; NUL is the one character text columns refuse.
  return new TextDecoder().decode(bytes).replaceAll("\0", "\uFFFD").trim();
}

function beforeDeadline<T>(promise: Promise<T>, deadline: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(deadline.reason);
    if (deadline.aborted) return onAbort();
    deadline.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => deadline.removeEventListener("abort", onAbort));
  });
}

import { lookup } from "node:dns/promises";
import { type AddressPolicy, publicOnly } from "./addresses";
import { imageSource, tooLarge } from "./image-url";
import { imageRefused } from "./refusals";
import { tlsRefusal, verifiedTls } from "./tls";

/** Resolves a host name to every address it has, once per fetch (and per redirect hop). */
export type Resolver = (hostname: string) => Promise<string[]>;

export interface ImageFetchPolicy {
  resolve: Resolver;
  isAllowed: AddressPolicy;
  maxBytes: number;
  /** For the whole fetch: DNS, every redirect hop and the body. */
  timeoutMs: number;
  maxRedirects: number;
  /** Image parts one request may carry; more are refused before anything is fetched. */
  maxPerRequest: number;
  /**
   * Tests only: certificates trusted for https instead of the system's roots,
   * so a self-signed fixture can be fetched. Production leaves it unset; the
   * certificate and its host name are verified either way.
   */
  ca?: string[];
}

export const systemResolver: Resolver = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

export const imageFetchDefaults = { maxBytes: 10 * 1024 * 1024, timeoutMs: 10_000, maxRedirects: 3, maxPerRequest: 16 };

/** What production uses: the system resolver and public addresses only. */
export function publicImagePolicy(
  settings: Partial<Pick<ImageFetchPolicy, "maxBytes" | "timeoutMs" | "maxRedirects" | "maxPerRequest">> = {},
): ImageFetchPolicy {
  const given = Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
  return { resolve: systemResolver, isAllowed: publicOnly, ...imageFetchDefaults, ...given };
}

export interface FetchedImage {
  mime: string;
  bytes: Uint8Array;
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

/**
 * Fetches one image for an embeddings request. Every hop's host is resolved
 * once, every address it resolves to must pass the policy, and the
 * connection goes to that checked address (the URL's host is swapped for the
 * IP; the original name travels as the Host header and, for https, as the
 * TLS server name the certificate is verified against), so a second DNS
 * answer can never point the connection elsewhere.
 */
export async function fetchImage(raw: string, param: string, policy: ImageFetchPolicy): Promise<FetchedImage> {
  const deadline = AbortSignal.timeout(policy.timeoutMs);
  try {
    return await fetchHops(raw, param, policy, deadline);
  } catch (error) {
    if (deadline.aborted) {
      throw imageRefused("image_fetch_timeout", `image_url took longer than ${policy.timeoutMs} ms to fetch.`, param);
    }
    throw error;
  }
}

async function fetchHops(raw: string, param: string, policy: ImageFetchPolicy, deadline: AbortSignal): Promise<FetchedImage> {
  let href = raw;
  for (let hop = 0; ; hop++) {
    const source = imageSource(href, policy.maxBytes, param);
    if (source.kind !== "remote")
      throw imageRefused("image_url_invalid", `image_url redirects to a ${href.slice(0, 5)} URL; only http(s) redirects are followed.`, param);
    const where = hop === 0 ? `image_url's host ${source.hostname}` : `image_url's redirect to ${source.url.href}`;
    const address = await checkedAddress(source, where, param, policy, deadline);
    const target = connectionTo(source.url, address, source.literal);
    const https = source.url.protocol === "https:";
    let response: Response;
    try {
      response = await fetch(target.href, {
        headers: { host: target.host, accept: "image/*" },
        redirect: "manual",
        signal: deadline,
        tls: https ? verifiedTls(target.serverName, policy.ca) : undefined,
      } as RequestInit);
    } catch (error) {
      if (deadline.aborted) throw error;
      if (https) {
        const refusal = tlsRefusal(error, where, source.hostname, param);
        if (refusal) throw refusal;
      }
      throw imageRefused(
        "image_fetch_failed",
        `image_url could not be fetched from ${source.url.host}: ${(error as Error).message ?? "connection failed"}.`,
        param,
      );
    }
    if (redirectStatuses.has(response.status) && response.headers.has("location")) {
      void response.body?.cancel().catch(() => {});
      if (hop >= policy.maxRedirects) throw imageRefused("image_url_too_many_redirects", `image_url redirected more than ${policy.maxRedirects} times.`, param);
      href = new URL(response.headers.get("location")!, source.url).href;
      continue;
    }
    return readImage(response, source.url.host, param, policy.maxBytes);
  }
}

/** The one address this hop connects to, after every address the name has passed the policy. */
async function checkedAddress(
  source: Extract<ReturnType<typeof imageSource>, { kind: "remote" }>,
  where: string,
  param: string,
  policy: ImageFetchPolicy,
  deadline: AbortSignal,
): Promise<string> {
  let addresses: string[];
  if (source.literal) addresses = [source.hostname];
  else {
    try {
      addresses = await abortable(policy.resolve(source.hostname), deadline);
    } catch (error) {
      if (deadline.aborted) throw error;
      addresses = [];
    }
    if (addresses.length === 0) throw imageRefused("image_fetch_failed", `${where} does not resolve to any address.`, param);
  }
  // Every address, not just the first: the system may connect to any of them, and a name with a private one is suspect.
  for (const address of addresses) {
    const verdict = policy.isAllowed(address, source.port);
    if (!verdict.allowed) {
      const verb = source.literal ? "is" : "resolves to";
      throw imageRefused("image_url_forbidden_address", `${where} ${verb} ${address}, ${verdict.reason}: only public addresses are fetched.`, param);
    }
  }
  return addresses[0]!;
}

/** Where to connect for `url` on the checked `address`, and what identifies the original host. */
export function connectionTo(url: URL, address: string, literal: boolean) {
  const target = new URL(url.href);
  target.hostname = address.includes(":") ? `[${address}]` : address;
  // An IP in the URL has no name for SNI; the certificate is then checked against the IP, as a browser would.
  return { href: target.href, host: url.host, serverName: url.protocol === "https:" && !literal ? url.hostname : undefined };
}

async function readImage(response: Response, host: string, param: string, maxBytes: number): Promise<FetchedImage> {
  const drop = () => void response.body?.cancel().catch(() => {});
  if (!response.ok) {
    drop();
    throw imageRefused("image_fetch_failed", `image_url answered HTTP ${response.status} from ${host}.`, param);
  }
  const mime = (response.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (!/^image\/[a-z0-9.+-]+$/.test(mime)) {
    drop();
    throw imageRefused("image_not_an_image", `image_url answered with content type '${mime || "none"}', not an image/* type.`, param);
  }
  const declared = Number(response.headers.get("content-length"));
  if (declared > maxBytes) {
    drop();
    throw tooLarge(maxBytes, param);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      // Counted as it arrives: a server that lies about (or omits) its length is stopped at the cap.
      if (size > maxBytes) {
        void reader.cancel().catch(() => {});
        throw tooLarge(maxBytes, param);
      }
      chunks.push(value);
    }
  }
  return { mime, bytes: Buffer.concat(chunks) };
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

import ipaddr from "ipaddr.js";
import type { Config } from "../config";
import { InvalidInputError } from "../errors";
import { publicOnly } from "../proxy/images/addresses";
import { type Resolver, systemResolver } from "../proxy/images/fetch-image";

export const MAX_URL_LENGTH = 2048;

export interface UrlPolicy {
  /** Development: http, and private or loopback addresses (a receiver on this machine). */
  allowPrivate: boolean;
  resolve: Resolver;
}

export function webhookUrlPolicy(settings: Pick<Config, "WEBHOOK_ALLOW_PRIVATE_URLS">): UrlPolicy {
  return { allowPrivate: settings.WEBHOOK_ALLOW_PRIVATE_URLS, resolve: systemResolver };
}

export interface CheckedUrl {
  url: URL;
  /** The checked address to connect to: connecting there, not to the name, means a later DNS answer cannot redirect it. */
  address: string;
  /** The host is an IP address (no DNS, no TLS server name). */
  literal: boolean;
}

const refuse = (message: string) => new InvalidInputError(message, "url");

/**
 * Judges an endpoint URL, which is hostile input: we POST to it from inside our network. Checked when it is set
 * and again before every attempt, since what the name resolves to can change. Every address the name has must
 * be public (the system may connect to any of them), judged by the same rules as the proxy's image fetches.
 */
export async function checkWebhookUrl(raw: string, policy: UrlPolicy): Promise<CheckedUrl> {
  if (raw.length > MAX_URL_LENGTH) throw refuse(`Webhook URLs must be at most ${MAX_URL_LENGTH} characters.`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse("This is not a valid URL: use https://your-host/path.");
  }
  const schemes = policy.allowPrivate ? ["https:", "http:"] : ["https:"];
  if (!schemes.includes(url.protocol)) throw refuse(policy.allowPrivate ? "Webhook URLs must use http or https." : "Webhook URLs must use https.");
  if (url.username || url.password) throw refuse("Webhook URLs must not contain a user name or password: verify our signature instead.");
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const literal = ipaddr.isValid(host);
  const addresses = literal ? [host] : await resolveAll(host, policy.resolve);
  if (addresses.length === 0) throw refuse(`${host} does not resolve to any address.`);
  if (!policy.allowPrivate) {
    for (const address of addresses) {
      const verdict = publicOnly(address, 0);
      if (verdict.allowed) continue;
      throw refuse(`${literal ? `${host} is` : `${host} resolves to ${address},`} ${verdict.reason}: webhooks are only sent to public addresses.`);
    }
  }
  return { url, address: addresses[0]!, literal };
}

async function resolveAll(host: string, resolve: Resolver): Promise<string[]> {
  try {
    return await resolve(host);
  } catch {
    return [];
  }
}

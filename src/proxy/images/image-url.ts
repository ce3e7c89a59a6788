import ipaddr from "ipaddr.js";
import { imageRefused } from "./refusals";

/** An `image_url.url` as the proxy will treat it. */
export type ImageSource =
  | { kind: "data"; decodedBytes: number }
  | {
      kind: "remote";
      url: URL;
      /** Without IPv6 brackets; IPv4 already in dotted form (the URL parser turns `0x7f.1` and `2130706433` into `127.0.0.1`). */
      hostname: string;
      /** The host is an IP address: it is judged as is, no DNS. */
      literal: boolean;
      port: number;
    };

/**
 * Parses an image URL, refusing what is never fetched: other schemes, user
 * info (`http://public.example@10.0.0.5/` reads as one host to people and is
 * another to the parser) and `data:` URLs over the size cap.
 */
export function imageSource(raw: string, maxBytes: number, param: string): ImageSource {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw imageRefused("image_url_invalid", "image_url is not a valid URL: use an http(s) URL or a data: URL.", param);
  }
  if (url.protocol === "data:") {
    const decodedBytes = dataUrlBytes(raw);
    if (decodedBytes === null) throw imageRefused("image_url_invalid", "image_url is a malformed data: URL (expected data:<mime>[;base64],<data>).", param);
    if (decodedBytes > maxBytes) throw tooLarge(maxBytes, param);
    return { kind: "data", decodedBytes };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw imageRefused("image_url_invalid", `image_url uses ${url.protocol.slice(0, -1)}: only http, https and data: URLs are accepted.`, param);
  }
  if (url.username || url.password) throw imageRefused("image_url_invalid", "image_url must not contain a user name or password.", param);
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return { kind: "remote", url, hostname, literal: ipaddr.isValid(hostname), port: Number(url.port) || (url.protocol === "https:" ? 443 : 80) };
}

export const tooLarge = (maxBytes: number, param: string) =>
  imageRefused("image_too_large", `image_url's image is larger than the ${maxBytes} bytes accepted.`, param);

/** The decoded size of a data: URL's payload, without decoding it; null when malformed. */
function dataUrlBytes(raw: string): number | null {
  const comma = raw.indexOf(",");
  if (comma < 0) return null;
  const header = raw.slice(5, comma);
  const payload = raw.slice(comma + 1);
  if (!/;base64$/i.test(header)) return decodeURIComponentSafe(payload)?.length ?? null;
  const compact = payload.replace(/\s|%20/g, "");
  if (!/^[A-Za-z0-9+/\-_]*={0,2}$/.test(compact)) return null;
  const padding = compact.endsWith("==") ? 2 : compact.endsWith("=") ? 1 : 0;
  return Math.floor((compact.length * 3) / 4) - padding;
}

function decodeURIComponentSafe(text: string): Uint8Array | null {
  try {
    return new TextEncoder().encode(decodeURIComponent(text));
  } catch {
    return null;
  }
}

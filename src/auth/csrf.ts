import type { Caller } from "./caller";

/**
 * CSRF: a browser always sends Origin on a cross-site POST. A foreign Origin
 * is refused; a cookie-authenticated mutation without Origin is refused too,
 * as no browser of ours sends one. Bearer calls (CLI, scripts) carry no
 * ambient credential, so they need no Origin.
 *
 * Returns the reason to refuse, or null to go ahead.
 */
export function crossSiteRefusal(origin: string | null, allowedOrigins: string[], caller: Caller | null): string | null {
  if (origin !== null && !allowedOrigins.includes(origin)) return "Cross-site request refused.";
  if (origin === null && caller?.via === "cookie") return "Cross-site request refused: missing Origin header.";
  return null;
}

/** The public URL's origin and the api's own (as the request reached it). */
export function allowedOriginsFor(publicUrl: string, request: Request): string[] {
  return [new URL(publicUrl).origin, new URL(request.url).origin];
}

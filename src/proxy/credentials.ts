import type { Executor } from "../../db/client";
import { resolveSession } from "../accounts/sessions";
import type { ApiKeyPrincipal } from "../api-keys/authenticate";
import { SESSION_COOKIE } from "../auth/caller";
import { allowedOriginsFor } from "../auth/csrf";
import { invalidApiKey, ProxyError } from "./errors";

const KEY_SHAPE = /^qdz_[0-9A-Za-z]{43}$/;

/**
 * Who a /v1 call acts for: an API key, or a signed-in person in the
 * playground (session cookie). `limiterKey` names the rate-limit bucket;
 * `keyId` is set only for keys, whose usage is recorded.
 */
export interface ProxyPrincipal {
  accountId: string;
  limiterKey: string;
  keyId: string | null;
  /** A signed-in person's role in the account (the playground); null for an API key. */
  role: "owner" | "member" | null;
}

/** The API key in `Authorization: Bearer <key>`, or the 401 to answer: missing, not Bearer, or not shaped like a key. */
export function bearerKey(authorization: string | null): string {
  if (!authorization) throw invalidApiKey("You didn't provide an API key. Pass it as 'Authorization: Bearer <key>'; create one on the API keys page.");
  const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  if (!token) throw invalidApiKey("The Authorization header must be 'Bearer <API key>'.");
  if (!KEY_SHAPE.test(token)) throw invalidApiKey("Incorrect API key provided. QDivZero keys look like 'qdz_' followed by 43 letters and digits.");
  return token;
}

/** The key's principal, through the cache; unknown and revoked keys answer the same 401. */
export async function authenticateBearer(authorization: string | null, lookup: (secret: string) => Promise<ApiKeyPrincipal | null>): Promise<ApiKeyPrincipal> {
  const principal = await lookup(bearerKey(authorization));
  if (!principal) throw invalidApiKey("Incorrect API key provided, or the key was revoked.");
  return principal;
}

export interface CredentialSources {
  db: Executor;
  lookupKey: (secret: string) => Promise<ApiKeyPrincipal | null>;
  /** Unset (tests that build the proxy alone): only the api's own origin is allowed. */
  publicUrl?: string;
}

/**
 * Bearer first, as before. Without an Authorization header, the playground's
 * session cookie — but only from our own origin: the proxy parses any body as
 * JSON, so a cross-site `text/plain` form POST carrying the cookie must stop
 * here (403). The session is looked up in the database, not cached: the
 * playground is not the hot path, and sign-out must take effect at once.
 */
export async function authenticateProxyCall(request: Request, sources: CredentialSources): Promise<ProxyPrincipal> {
  const authorization = request.headers.get("authorization");
  const cookie = authorization ? undefined : new Bun.CookieMap(request.headers.get("cookie") ?? "").get(SESSION_COOKIE);
  if (!cookie) {
    const key = await authenticateBearer(authorization, sources.lookupKey);
    return { accountId: key.accountId, limiterKey: key.keyId, keyId: key.keyId, role: null };
  }
  // Stricter than tRPC's CSRF check for writes: a missing Origin is refused too, as every browser POST of ours
  // sends one. A GET (the model list) changes nothing and browsers omit Origin on same-origin GETs; a foreign
  // page cannot read the answer (no CORS), so only a foreign Origin is refused there.
  const origin = request.headers.get("origin");
  const allowed = sources.publicUrl ? allowedOriginsFor(sources.publicUrl, request) : [new URL(request.url).origin];
  const originRequired = request.method !== "GET";
  if ((origin === null && originRequired) || (origin !== null && !allowed.includes(origin))) {
    throw new ProxyError(
      403,
      "Cross-site request refused: signed-in calls to /v1 come from the web app only; elsewhere pass an API key.",
      "invalid_request_error",
      "cross_site_refused",
    );
  }
  const user = await resolveSession(sources.db, cookie);
  if (!user) throw invalidApiKey("Your session has ended. Sign in again, or pass an API key as 'Authorization: Bearer <key>'.");
  return { accountId: user.accountId, limiterKey: `session:${user.sessionId}`, keyId: null, role: user.role };
}

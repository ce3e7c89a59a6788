import type { Executor } from "../../db/client";
import { resolveSession, SESSION_TOKEN_PREFIX, type SignedInUser } from "../accounts/sessions";
import { authenticateApiKey, type KeyUsageRecorder } from "../api-keys/authenticate";
import { API_KEY_PREFIX } from "../api-keys/keys";
import type { Actor, Role } from "../context";
import { UnauthenticatedError } from "../errors";
import type { ApiKeyScope } from "./scopes";

export const SESSION_COOKIE = "qdz_session";

/** Who made a request, and how they proved it: cookies need CSRF protection, bearer tokens do not. */
export interface Caller {
  via: "cookie" | "bearer";
  accountId: string;
  role: Role;
  actor: Actor;
  /** Set when a person is signed in (a session), null for an API key. */
  user: SignedInUser | null;
  /** The session token, so sign-out can end exactly this session. */
  sessionToken: string | null;
  /** An API key's scope (src/auth/scopes.ts); null for a person, whose role limits them instead. */
  scope: ApiKeyScope | null;
}

/**
 * Resolves the caller from `Authorization: Bearer` (an API key or a CLI
 * session token) or the session cookie. A bearer credential that does not
 * authenticate is an error, never a silent fall back to the cookie.
 */
export async function resolveCaller(db: Executor, request: Request, keyUsage?: KeyUsageRecorder): Promise<Caller | null> {
  const authorization = request.headers.get("authorization");
  if (authorization) {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
    if (!token) throw new UnauthenticatedError("The Authorization header must be 'Bearer <API key>'.");
    if (token.startsWith(SESSION_TOKEN_PREFIX)) {
      const user = await resolveSession(db, token);
      if (!user) throw new UnauthenticatedError("This session has ended. Sign in again.");
      return fromSession(user, "bearer", token);
    }
    if (token.startsWith(API_KEY_PREFIX)) {
      const key = await authenticateApiKey(db, token);
      if (!key) throw new UnauthenticatedError("This API key is not valid or was revoked.");
      keyUsage?.record(key.keyId);
      return {
        via: "bearer",
        accountId: key.accountId,
        // A key acts with a member's rights: owner-only actions need a person.
        role: "member",
        actor: { kind: "apiKey", keyId: key.keyId },
        user: null,
        sessionToken: null,
        scope: key.scope,
      };
    }
    throw new UnauthenticatedError("This API key is not valid or was revoked.");
  }
  const token = new Bun.CookieMap(request.headers.get("cookie") ?? "").get(SESSION_COOKIE);
  if (!token) return null;
  const user = await resolveSession(db, token);
  return user ? fromSession(user, "cookie", token) : null;
}

function fromSession(user: SignedInUser, via: Caller["via"], token: string): Caller {
  return {
    via,
    accountId: user.accountId,
    role: user.role,
    actor: { kind: "user", userId: user.userId, sessionId: user.sessionId },
    user,
    sessionToken: token,
    scope: null,
  };
}

export function sessionCookie(token: string, expiresAt: Date, secure: boolean): string {
  return new Bun.Cookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "lax",
    secure,
    path: "/",
    expires: expiresAt,
  }).serialize();
}

export function clearedSessionCookie(secure: boolean): string {
  return new Bun.Cookie(SESSION_COOKIE, "", { httpOnly: true, sameSite: "lax", secure, path: "/", maxAge: 0 }).serialize();
}

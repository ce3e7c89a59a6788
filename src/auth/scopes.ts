import { apiKeyScope } from "../../db/schema/keys";
import { ForbiddenError } from "../errors";

/**
 * What an API key may do. Each scope includes the ones before it:
 * `inference` only /v1; `read` also read-only tRPC procedures and REST GETs;
 * `full` everything a member may do. Keys and members are managed by people
 * only (userProcedure, `requireUser`), whatever a key's scope.
 */
export type ApiKeyScope = (typeof apiKeyScope.enumValues)[number];

/** Narrowest first; the database enum is the one list. */
export const API_KEY_SCOPES = apiKeyScope.enumValues;

const rank = (scope: ApiKeyScope): number => API_KEY_SCOPES.indexOf(scope);

/**
 * Procedures whose type says otherwise than what they do. A rule here is
 * checked against the procedure's code, never added to widen a key's reach.
 */
const procedureScopes: Record<string, ApiKeyScope> = {
  // Evaluates a prompt and records nothing; a mutation only so the prompt travels in a body, not a URL.
  "firewalls.test": "read",
};

/** The scope a tRPC procedure needs: queries read, mutations change the account. */
export function scopeForProcedure(path: string, type: "query" | "mutation" | "subscription"): ApiKeyScope {
  return procedureScopes[path] ?? (type === "query" ? "read" : "full");
}

/**
 * Refuses a key whose scope does not cover `needed`, naming the scopes that
 * would. A person (scope null) is limited by their role, not by a scope.
 */
export function requireScope(scope: ApiKeyScope | null, needed: ApiKeyScope, what: string): void {
  if (scope === null || rank(scope) >= rank(needed)) return;
  const enough = API_KEY_SCOPES.filter((s) => rank(s) >= rank(needed)).map((s) => `'${s}'`);
  throw new ForbiddenError(`This API key has scope '${scope}'; ${what} needs ${enough.join(" or ")}.`);
}

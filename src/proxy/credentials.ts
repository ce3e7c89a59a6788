import type { ApiKeyPrincipal } from "../api-keys/authenticate";
import { invalidApiKey } from "./errors";

const KEY_SHAPE = /^qdz_[0-9A-Za-z]{43}$/;

/** The API key in `Authorization: Bearer <key>`, or the 401 to answer: missing, not Bearer, or not shaped like a key. */
export function bearerKey(authorization: string | null): string {
  if (!authorization) throw invalidApiKey("You didn't provide an API key. Pass it as 'Authorization: Bearer <key>'; create one on the API keys page.");
  const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  if (!token) throw invalidApiKey("The Authorization header must be 'Bearer <API key>'.");
  if (!KEY_SHAPE.test(token)) throw invalidApiKey("Incorrect API key provided. QDivZero keys look like 'qdz_' followed by 43 letters and digits.");
  return token;
}

/** The key's principal, through the cache; unknown and revoked keys answer the same 401. */
export async function authenticateBearer(
  authorization: string | null,
  lookup: (secret: string) => Promise<ApiKeyPrincipal | null>,
): Promise<ApiKeyPrincipal> {
  const principal = await lookup(bearerKey(authorization));
  if (!principal) throw invalidApiKey("Incorrect API key provided, or the key was revoked.");
  return principal;
}

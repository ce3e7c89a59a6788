import { and, desc, eq, isNull } from "drizzle-orm";
import { apiKeys } from "../../db/schema";
import { newSecret, sha256Hex } from "../auth/secrets";
import { type AccountContext, actingUserId } from "../context";
import { NotFoundError } from "../errors";
import { newId } from "../ids";
import type { CreateApiKeyInput } from "./schemas";

export const API_KEY_PREFIX = "qdz_";
/** `qdz_` and 8 characters: enough to tell keys apart, far too little to guess the rest. */
const SHOWN_PREFIX_LENGTH = API_KEY_PREFIX.length + 8;

/** Creates a key; the returned `secret` is the only time the whole key exists outside the caller. */
export async function createApiKey(ctx: AccountContext, input: CreateApiKeyInput) {
  const secret = newSecret(API_KEY_PREFIX);
  const [key] = await ctx.db
    .insert(apiKeys)
    .values({
      id: newId("apiKey"),
      accountId: ctx.accountId,
      name: input.name,
      prefix: secret.slice(0, SHOWN_PREFIX_LENGTH),
      secretHash: sha256Hex(secret),
      createdBy: actingUserId(ctx.actor),
    })
    .returning();
  return { key: publicKey(key!), secret };
}

export async function listApiKeys(ctx: AccountContext) {
  const rows = await ctx.db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.accountId, ctx.accountId))
    .orderBy(desc(apiKeys.createdAt));
  return rows.map(publicKey);
}

export async function revokeApiKey(ctx: AccountContext, keyId: string) {
  const [revoked] = await ctx.db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.accountId, ctx.accountId), isNull(apiKeys.revokedAt)))
    .returning();
  if (!revoked) throw new NotFoundError("Active API key", keyId);
  return publicKey(revoked);
}

function publicKey(row: typeof apiKeys.$inferSelect) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    requestCount: row.requestCount,
    revokedAt: row.revokedAt,
  };
}

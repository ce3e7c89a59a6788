import { and, desc, eq, isNull, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { apiKeys } from "../../db/schema";
import { requireUser } from "../accounts/owners";
import { recordAudit } from "../audit/record";
import { newSecret, sha256Hex } from "../auth/secrets";
import { type AccountContext, withTransaction } from "../context";
import { NotFoundError } from "../errors";
import { newId } from "../ids";
import { type CreateApiKeyInput, createApiKeyInput } from "./schemas";

export const API_KEY_PREFIX = "qdz_";
/** `qdz_` and 8 characters: enough to tell keys apart, far too little to guess the rest. */
const SHOWN_PREFIX_LENGTH = API_KEY_PREFIX.length + 8;

/**
 * Creates a key; the returned `secret` is the only time the whole key exists outside the caller.
 * Only a person makes keys: a key made by a key would outlive its parent's revocation.
 */
export async function createApiKey(ctx: AccountContext, input: CreateApiKeyInput) {
  const createdBy = requireUser(ctx);
  const { name, scope } = createApiKeyInput.parse(input);
  const secret = newSecret(API_KEY_PREFIX);
  const key = await withTransaction(ctx.db, async (tx) => {
    const [row] = await tx
      .insert(apiKeys)
      .values({
        id: newId("apiKey"),
        accountId: ctx.accountId,
        name,
        prefix: secret.slice(0, SHOWN_PREFIX_LENGTH),
        secretHash: sha256Hex(secret),
        scope,
        createdBy,
      })
      .returning();
    await recordAudit({ ...ctx, db: tx }, { kind: "api_key.created", subjectId: row!.id, changes: { after: { name, prefix: row!.prefix, scope } } });
    return row!;
  });
  return { key: publicKey(key), secret };
}

export async function listApiKeys(ctx: AccountContext) {
  const rows = await ctx.db.select().from(apiKeys).where(eq(apiKeys.accountId, ctx.accountId)).orderBy(desc(apiKeys.createdAt));
  return rows.map(publicKey);
}

export async function revokeApiKey(ctx: AccountContext, keyId: string) {
  requireUser(ctx);
  return withTransaction(ctx.db, async (tx) => {
    const [revoked] = await tx
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.id, keyId), eq(apiKeys.accountId, ctx.accountId), isNull(apiKeys.revokedAt)))
      .returning();
    if (!revoked) throw new NotFoundError("Active API key", keyId);
    const { name, prefix, scope } = revoked;
    await recordAudit(
      { ...ctx, db: tx },
      { kind: "api_key.revoked", subjectId: keyId, changes: { before: { name, prefix, scope, revoked: false }, after: { revoked: true } } },
    );
    return publicKey(revoked);
  });
}

/**
 * Revokes the keys a person made in an account, when they leave it or are
 * removed: run inside the membership change's transaction. The api_keys
 * trigger notifies each revoked key at commit, so /v1 drops them at once.
 */
export async function revokeKeysCreatedBy(tx: Executor, accountId: string, userId: string): Promise<number> {
  const revoked = await tx
    .update(apiKeys)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiKeys.accountId, accountId), eq(apiKeys.createdBy, userId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return revoked.length;
}

function publicKey(row: typeof apiKeys.$inferSelect) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scope: row.scope,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    requestCount: row.requestCount,
    revokedAt: row.revokedAt,
  };
}

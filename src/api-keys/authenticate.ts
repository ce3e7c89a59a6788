import { and, eq, isNull, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { apiKeys } from "../../db/schema";
import type { ApiKeyScope } from "../auth/scopes";
import { constantTimeEqual, sha256Hex } from "../auth/secrets";
import { log } from "../platform/log";
import { API_KEY_PREFIX } from "./keys";

export interface ApiKeyPrincipal {
  keyId: string;
  accountId: string;
  /** Fixed when the key is made, so the proxy cache may keep it as long as the key. */
  scope: ApiKeyScope;
}

const KEY_SHAPE = /^qdz_[0-9A-Za-z]{43}$/;

/** The account behind a bearer API key, or null for a malformed, unknown or revoked key. */
export async function authenticateApiKey(db: Executor, secret: string): Promise<ApiKeyPrincipal | null> {
  if (!secret.startsWith(API_KEY_PREFIX) || !KEY_SHAPE.test(secret)) return null;
  const hash = sha256Hex(secret);
  const [row] = await db
    .select({ keyId: apiKeys.id, accountId: apiKeys.accountId, scope: apiKeys.scope, secretHash: apiKeys.secretHash })
    .from(apiKeys)
    .where(and(eq(apiKeys.secretHash, hash), isNull(apiKeys.revokedAt)));
  // The index lookup finds the row; the constant-time compare keeps the final check free of timing leaks.
  if (!row || !constantTimeEqual(row.secretHash, hash)) return null;
  return { keyId: row.keyId, accountId: row.accountId, scope: row.scope };
}

interface PendingUse {
  at: Date;
  requests: number;
}

/**
 * Remembers when each key was last used and how many requests it made, and
 * writes them in one statement every few seconds, so authenticating a request
 * never writes to the database.
 */
export class KeyUsageRecorder {
  private pending = new Map<string, PendingUse>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly db: Executor) {}

  record(keyId: string, at = new Date()): void {
    this.add(keyId, at, 1);
  }

  private add(keyId: string, at: Date, requests: number): void {
    const use = this.pending.get(keyId);
    if (use) {
      use.requests += requests;
      if (at > use.at) use.at = at;
    } else this.pending.set(keyId, { at, requests });
  }

  start(intervalMs: number): this {
    this.timer = setInterval(() => void this.flush().catch((error) => log.error({ err: error }, "key usage flush failed")), intervalMs);
    this.timer.unref?.();
    return this;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  async flush(): Promise<number> {
    if (this.pending.size === 0) return 0;
    const batch = [...this.pending].map(([id, use]) => ({ id, at: use.at.toISOString(), requests: use.requests }));
    this.pending = new Map();
    // greatest(): a late flush from another api replica never moves last_used_at backwards; counts only add up.
    try {
      await this.db.execute(sql`
        update ${apiKeys} set last_used_at = greatest(${apiKeys.lastUsedAt}, u.at), request_count = ${apiKeys.requestCount} + u.requests
        from jsonb_to_recordset(${JSON.stringify(batch)}::jsonb) as u(id text, at timestamptz, requests bigint)
        where ${apiKeys.id} = u.id`);
    } catch (error) {
      // The database was unreachable: keep what this batch counted for the next flush rather than lose it.
      for (const { id, at, requests } of batch) this.add(id, new Date(at), requests);
      throw error;
    }
    return batch.length;
  }
}

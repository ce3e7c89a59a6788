import { eq, sql } from "drizzle-orm";
import { webhookEndpoints } from "../../db/schema";
import { requireOwner } from "../accounts/owners";
import { recordAudit } from "../audit/record";
import { type AccountContext, withTransaction } from "../context";
import { NotFoundError } from "../errors";
import { type SetEndpointInput, setEndpointInput } from "./schemas";
import { newWebhookSecret } from "./signature";
import { checkWebhookUrl, type UrlPolicy } from "./url-policy";

type EndpointRow = typeof webhookEndpoints.$inferSelect;

export interface WebhookEndpoint {
  url: string;
  enabled: boolean;
  /** The signing secret: shown to owners only (with it, anyone could forge alerts to the receiver). */
  secret: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const MANAGE = "manage the webhook endpoint";

function shown(ctx: AccountContext, row: EndpointRow): WebhookEndpoint {
  return { url: row.url, enabled: row.enabled, secret: ctx.role === "owner" ? row.secret : null, createdAt: row.createdAt, updatedAt: row.updatedAt };
}

/** The account's endpoint, or null when alerts only go to the in-app list. */
export async function getEndpoint(ctx: AccountContext): Promise<WebhookEndpoint | null> {
  const [row] = await ctx.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.accountId, ctx.accountId));
  return row ? shown(ctx, row) : null;
}

/**
 * Sets where alerts go. A new URL keeps the secret the receiver already verifies with; the first endpoint gets
 * one. Deliveries already queued follow the endpoint: their next attempt goes to the new URL.
 */
export async function setEndpoint(ctx: AccountContext, input: SetEndpointInput, policy: UrlPolicy): Promise<WebhookEndpoint> {
  requireOwner(ctx, MANAGE);
  const { url, enabled } = setEndpointInput.parse(input);
  const checked = await checkWebhookUrl(url, policy);
  return withTransaction(ctx.db, async (tx) => {
    const [before] = await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.accountId, ctx.accountId)).for("update");
    const [row] = await tx
      .insert(webhookEndpoints)
      .values({ accountId: ctx.accountId, url: checked.url.href, secret: newWebhookSecret(), enabled: enabled ?? true })
      .onConflictDoUpdate({
        target: webhookEndpoints.accountId,
        set: { url: checked.url.href, ...(enabled !== undefined && { enabled }), updatedAt: sql`now()` },
      })
      .returning();
    // The URL and the switch only: the signing secret never enters the trail.
    const changes = { before: before ? { url: before.url, enabled: before.enabled } : { url: null }, after: { url: row!.url, enabled: row!.enabled } };
    await recordAudit({ ...ctx, db: tx }, { kind: "webhook.endpoint_set", changes });
    return shown(ctx, row!);
  });
}

/** Alerts then only go to the in-app list; removing no endpoint does nothing. Queued deliveries end failed. */
export async function removeEndpoint(ctx: AccountContext): Promise<void> {
  requireOwner(ctx, MANAGE);
  await withTransaction(ctx.db, async (tx) => {
    const [removed] = await tx.delete(webhookEndpoints).where(eq(webhookEndpoints.accountId, ctx.accountId)).returning({ url: webhookEndpoints.url });
    if (removed) await recordAudit({ ...ctx, db: tx }, { kind: "webhook.endpoint_removed", changes: { before: removed, after: { url: null } } });
  });
}

/** A new secret, at once: every later attempt (retries included) is signed with it. */
export async function rotateSecret(ctx: AccountContext): Promise<WebhookEndpoint> {
  requireOwner(ctx, MANAGE);
  return withTransaction(ctx.db, async (tx) => {
    const [row] = await tx
      .update(webhookEndpoints)
      .set({ secret: newWebhookSecret(), updatedAt: sql`now()` })
      .where(eq(webhookEndpoints.accountId, ctx.accountId))
      .returning();
    if (!row) throw new NotFoundError("Webhook endpoint");
    await recordAudit({ ...ctx, db: tx }, { kind: "webhook.secret_rotated", changes: { after: { url: row.url } } });
    return shown(ctx, row);
  });
}

import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { firewallEvents } from "../../db/schema";
import type { AccountContext } from "../context";
import type { FiredRule, PromptText } from "./evaluate";
import { firewallOf, instanceOf } from "./internal";
import { type ListEventsInput, listEventsInput } from "./schemas";

/** Enough of the prompt to see what fired, for accounts that opted in; never the whole prompt. */
const EXCERPT_CHARS = 500;

/** Records the blocks and flags of one screening (redactions went through and are not events). */
export async function recordFirewallEvents(
  db: Executor,
  target: { accountId: string; instanceId: string | null; firewallId: string; storePromptText: boolean },
  fired: FiredRule[],
  texts: PromptText[],
) {
  const rows = fired
    .filter((f) => f.action !== "redact")
    .map((f) => ({
      accountId: target.accountId,
      instanceId: target.instanceId,
      firewallId: target.firewallId,
      ruleId: f.ruleId,
      ruleKind: f.kind,
      action: f.action as "block" | "flag",
      field: f.field,
      matches: f.matches,
      promptExcerpt: target.storePromptText ? excerptOf(f.field, texts) : null,
    }));
  if (rows.length) await db.insert(firewallEvents).values(rows);
}

function excerptOf(field: string, texts: PromptText[]): string | null {
  const text = field === "*" ? texts.map((t) => t.text).join("\n") : texts.find((t) => t.field === field)?.text;
  return text === undefined ? null : text.slice(0, EXCERPT_CHARS);
}

/** An instance's or a firewall's events, newest first, a page at a time. */
export async function listFirewallEvents(ctx: AccountContext, input: ListEventsInput) {
  const { instanceId, firewallId, limit, cursor } = listEventsInput.parse(input);
  const where: SQL[] = [eq(firewallEvents.accountId, ctx.accountId)];
  if (instanceId !== undefined) where.push(eq(firewallEvents.instanceId, await instanceOf(ctx, instanceId)));
  if (firewallId !== undefined) where.push(eq(firewallEvents.firewallId, (await firewallOf(ctx, firewallId)).id));
  if (cursor !== undefined) where.push(lt(firewallEvents.id, cursor));
  const rows = await ctx.db
    .select()
    .from(firewallEvents)
    .where(and(...where))
    .orderBy(desc(firewallEvents.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  return { events: page, nextCursor: rows.length > limit ? page.at(-1)!.id : null };
}

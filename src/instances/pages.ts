import { and, asc, desc, eq, gt, isNull } from "drizzle-orm";
import { instanceEvents, instances } from "../../db/schema";
import type { AccountContext } from "../context";
import { InvalidInputError } from "../errors";
import { decodeCursor, encodeCursor, olderThan, positionOf } from "../pagination";
import { getInstance } from "./queries";
import type { instanceEventsQuery, instanceListQuery } from "./schemas";
import { listItem } from "./views";

type ListQuery = Pick<import("zod").output<typeof instanceListQuery>, "state" | "limit" | "cursor">;
type EventsQuery = import("zod").output<typeof instanceEventsQuery>;

/**
 * The Instances list a page at a time, newest first: keyset pages on (created_at, id), so an instance
 * launched while a script pages shifts nothing it has not read yet.
 */
export async function listInstancePage(ctx: AccountContext, query: ListQuery) {
  const after = query.cursor ? decodeCursor(query.cursor, "the instance list") : null;
  const rows = await ctx.db
    .select({ instance: instances, position: positionOf(instances.createdAt) })
    .from(instances)
    .where(
      and(
        eq(instances.accountId, ctx.accountId),
        isNull(instances.deletedAt),
        query.state ? eq(instances.state, query.state) : undefined,
        after ? olderThan(instances.createdAt, instances.id, after) : undefined,
      ),
    )
    .orderBy(desc(instances.createdAt), desc(instances.id))
    .limit(query.limit + 1);
  const last = rows.length > query.limit ? rows[query.limit - 1] : undefined;
  return { data: rows.slice(0, query.limit).map((row) => listItem(row.instance)), next_cursor: last ? encodeCursor(last.position, last.instance.id) : null };
}

/** An instance's timeline a page at a time, oldest first; keyset pages on the event id, which grows with time. */
export async function instanceEventPage(ctx: AccountContext, instanceId: string, query: EventsQuery) {
  const instance = await getInstance(ctx, instanceId);
  const after = query.cursor ? Number(query.cursor) : null;
  if (query.cursor && (!Number.isSafeInteger(after) || after! <= 0)) throw new InvalidInputError("This cursor is not one the timeline gave out.", "cursor");
  const rows = await ctx.db
    .select()
    .from(instanceEvents)
    .where(and(eq(instanceEvents.instanceId, instance.id), after ? gt(instanceEvents.id, after) : undefined))
    .orderBy(asc(instanceEvents.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  return {
    data: page.map((e) => ({ id: e.id, at: e.at, from: e.fromState, to: e.toState, cause: e.cause, detail: e.detail })),
    next_cursor: rows.length > query.limit ? String(page.at(-1)!.id) : null,
  };
}

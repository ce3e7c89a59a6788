import { and, asc, desc, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import { instanceEvents, instances } from "../../db/schema";
import type { AccountContext } from "../context";
import { InvalidInputError } from "../errors";
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
  const after = query.cursor ? decodeListCursor(query.cursor) : null;
  const rows = await ctx.db
    .select()
    .from(instances)
    .where(
      and(
        eq(instances.accountId, ctx.accountId),
        isNull(instances.deletedAt),
        query.state ? eq(instances.state, query.state) : undefined,
        after
          ? or(
              lt(instances.createdAt, sql`${after.createdAt}::timestamptz`),
              and(eq(instances.createdAt, sql`${after.createdAt}::timestamptz`), lt(instances.id, after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(instances.createdAt), desc(instances.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  // The position to the microsecond, as the database keeps it (a JavaScript Date stops at the millisecond).
  const [position] =
    last && rows.length > query.limit
      ? await ctx.db.execute<{ at: string }>(
          sql`select to_char(${instances.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at from ${instances} where ${instances.id} = ${last.id}`,
        )
      : [];
  return { data: page.map(listItem), next_cursor: position ? Buffer.from(JSON.stringify([position.at, last!.id])).toString("base64url") : null };
}

function decodeListCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, "base64url").toString());
    if (typeof createdAt !== "string" || Number.isNaN(Date.parse(createdAt)) || !/^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(createdAt) || typeof id !== "string")
      throw new Error();
    return { createdAt, id };
  } catch {
    throw new InvalidInputError("This cursor is not one the instance list gave out.", "cursor");
  }
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

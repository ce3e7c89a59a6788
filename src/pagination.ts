import { type AnyColumn, type SQL, sql } from "drizzle-orm";
import { InvalidInputError } from "./errors";

/**
 * Keyset pages newest first on (created_at, id), as the ledger, the notifications and the instance list page:
 * the cursor is the last row's position, never an offset, so rows added while someone pages shift nothing.
 *
 * The position is created_at to the microsecond, in UTC: rows written in one transaction share a `now()`, and a
 * JavaScript Date (milliseconds) as the position would skip the rest of them after a page that ends among them.
 */
export function positionOf(createdAt: AnyColumn): SQL<string> {
  return sql<string>`to_char(${createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** Rows after the cursor's, newest first: compared as a row, which an index on (…, created_at, id) starts from. */
export function olderThan(createdAt: AnyColumn, id: AnyColumn, after: PagePosition): SQL {
  return sql`(${createdAt}, ${id}) < (${after.createdAt}::timestamptz, ${after.id})`;
}

export interface PagePosition {
  /** ISO 8601 in UTC, up to microseconds. */
  createdAt: string;
  id: string;
}

/** The cursor after the row at `createdAt` (as `positionOf` formats it) with id `id`. */
export function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString("base64url");
}

const POSITION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/** A cursor `encodeCursor` made, or a 400 on `cursor` saying whose it is not ("the ledger"). */
export function decodeCursor(cursor: string, list: string): PagePosition {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, "base64url").toString());
    // A real calendar time (Date would take 31 February as 3 March), so the database's cast cannot fail.
    const valid = typeof createdAt === "string" && POSITION.test(createdAt) && new Date(createdAt).toISOString().slice(0, 19) === createdAt.slice(0, 19);
    if (!valid || typeof id !== "string") throw new Error();
    return { createdAt, id };
  } catch {
    throw new InvalidInputError(`This cursor is not one ${list} gave out.`, "cursor");
  }
}

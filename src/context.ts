import { PgTransaction } from "drizzle-orm/pg-core";
import type { Executor, Transaction } from "../db/client";

export type Role = "owner" | "member";

/** Who is acting. Attribution (created_by, audit) comes from here, never from input. */
export type Actor = { kind: "user"; userId: string; sessionId: string } | { kind: "apiKey"; keyId: string } | { kind: "system" };

/** A caller inside one account: every query a domain verb makes is scoped to `accountId`. */
export interface AccountContext {
  db: Executor;
  accountId: string;
  role: Role;
  actor: Actor;
}

/** Runs `fn` in a transaction, joining the caller's one when `db` already is a transaction. */
export async function withTransaction<T>(db: Executor, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  if (db instanceof PgTransaction) return fn(db as Transaction);
  return db.transaction(fn);
}

import { PgTransaction } from "drizzle-orm/pg-core";
import type { Executor, Transaction } from "../db/client";

export type Role = "owner" | "member";

/** Who is acting. Attribution (created_by, audit) comes from here, never from input. */
export type Actor =
  | { kind: "user"; userId: string; sessionId: string }
  | { kind: "apiKey"; keyId: string }
  /** A schedule rule firing: it acts with the owner's rights, and the trail names the rule. */
  | { kind: "schedule"; ruleId: string }
  | { kind: "system" };

/** A caller inside one account: every query a domain verb makes is scoped to `accountId`. */
export interface AccountContext {
  db: Executor;
  accountId: string;
  role: Role;
  actor: Actor;
  /** The HTTP request acting (`x-request-id`), for the audit trail; absent in jobs and the scheduler. */
  requestId?: string;
}

/** Runs `fn` in a transaction, joining the caller's one when `db` already is a transaction. */
export async function withTransaction<T>(db: Executor, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  if (db instanceof PgTransaction) return fn(db as Transaction);
  return db.transaction(fn);
}

import { asc, eq, gt, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { accountBalances, accounts, memberships, users } from "../../db/schema";
import { graceStatus } from "../billing/grace";
import type { AccountsPageInput } from "./schemas";

/**
 * Every account with its balance and grace state, in keyset pages by id (stable while accounts are added).
 * The owner named is the earliest: an account may have several.
 */
export async function listAccounts(db: Executor, input: AccountsPageInput, graceWindowHours: number) {
  const limit = input.limit ?? 25;
  const owner = sql<string | null>`(
    select ${users.email} from ${memberships} join ${users} on ${users.id} = ${memberships.userId}
    where ${memberships.accountId} = ${accounts.id} and ${memberships.role} = 'owner'
    order by ${memberships.createdAt} limit 1)`;
  const rows = await db
    .select({
      id: accounts.id,
      name: accounts.name,
      createdAt: accounts.createdAt,
      ownerEmail: owner,
      balanceCents: accountBalances.balanceCents,
      graceStartedAt: accountBalances.graceStartedAt,
    })
    .from(accounts)
    .leftJoin(accountBalances, eq(accountBalances.accountId, accounts.id))
    .where(input.cursor ? gt(accounts.id, input.cursor) : undefined)
    .orderBy(asc(accounts.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit).map(({ graceStartedAt, balanceCents, ...row }) => ({
    ...row,
    balanceCents: balanceCents ?? 0,
    grace: graceStatus(graceStartedAt, graceWindowHours),
  }));
  return { accounts: page, nextCursor: rows.length > limit ? page.at(-1)!.id : null };
}

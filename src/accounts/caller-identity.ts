import { and, eq } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { accounts, apiKeys } from "../../db/schema";
import type { Caller } from "../auth/caller";
import type { ApiKeyScope } from "../auth/scopes";
import { listUserAccounts } from "./members";

/**
 * Who is calling, as `auth.me` answers it: a person (their email, role and
 * accounts) or an API key (its id, name and scope). A key carries a member's
 * rights but is nobody's membership, so clients name the key, not a role.
 */
export async function callerIdentity(db: Executor, caller: Caller) {
  const actor = caller.actor;
  if (actor.kind !== "apiKey") {
    const accountsOfUser = caller.user ? await listUserAccounts(db, caller.user.userId) : [];
    return {
      ...common(caller),
      accountName: accountsOfUser.find((account) => account.id === caller.accountId)?.name ?? null,
      apiKey: null as { id: string; name: string; prefix: string; scope: ApiKeyScope } | null,
      accounts: accountsOfUser,
    };
  }
  const [key] = await db
    .select({ id: apiKeys.id, name: apiKeys.name, prefix: apiKeys.prefix, scope: apiKeys.scope, accountName: accounts.name })
    .from(apiKeys)
    .innerJoin(accounts, eq(accounts.id, apiKeys.accountId))
    .where(and(eq(apiKeys.id, actor.keyId), eq(apiKeys.accountId, caller.accountId)));
  const apiKey = key ? { id: key.id, name: key.name, prefix: key.prefix, scope: key.scope } : null;
  return { ...common(caller), accountName: key?.accountName ?? null, apiKey, accounts: [] as UserAccount[] };
}

type UserAccount = Awaited<ReturnType<typeof listUserAccounts>>[number];

function common(caller: Caller) {
  return {
    kind: caller.actor.kind,
    userId: caller.user?.userId ?? null,
    email: caller.user?.email ?? null,
    accountId: caller.accountId,
    role: caller.role,
  };
}

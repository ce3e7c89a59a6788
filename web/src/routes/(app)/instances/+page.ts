import { loadOrSignIn } from "#lib/navigation.ts";
import { trpc } from "#lib/trpc.ts";
import type { PageLoad } from "./$types";

/** The instances, and the account's balance for the runway while any of them runs. */
export const load: PageLoad = ({ url }) =>
  loadOrSignIn(url, async () => {
    const [instances, balance] = await Promise.all([trpc.instances.list.query(), trpc.billing.balance.query()]);
    return { instances, balance };
  });

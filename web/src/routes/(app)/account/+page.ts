import { loadOrSignIn } from "#lib/navigation.ts";
import { trpc } from "#lib/trpc.ts";
import type { PageLoad } from "./$types";

export const load: PageLoad = async ({ url, parent }) => {
  const { me } = await parent();
  return loadOrSignIn(url, async () => {
    const [account, members, invites] = await Promise.all([
      trpc.account.get.query(),
      trpc.account.members.query(),
      // Pending invites are the owners' business; the api refuses members.
      me.role === "owner" ? trpc.account.invites.query() : Promise.resolve(null),
    ]);
    return { account, members, invites };
  });
};

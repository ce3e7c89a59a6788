import { error } from "@sveltejs/kit";
import { TRPCClientError } from "@trpc/client";
import { loadOrSignIn } from "#lib/navigation.ts";
import { trpc } from "#lib/trpc.ts";
import type { PageLoad } from "./$types";

/** The firewall and its latest blocks and flags. Another account's id reads as one that does not exist. */
export const load: PageLoad = ({ url, params }) =>
  loadOrSignIn(url, async () => {
    try {
      const [firewall, events] = await Promise.all([
        trpc.firewalls.get.query({ id: params.id }),
        trpc.firewalls.events.query({ firewallId: params.id, limit: 20 }),
      ]);
      return { firewall, events };
    } catch (caught) {
      if (caught instanceof TRPCClientError && caught.data?.code === "NOT_FOUND") error(404, "There is no such firewall in this account.");
      throw caught;
    }
  });

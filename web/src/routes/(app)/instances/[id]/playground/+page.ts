import { error } from "@sveltejs/kit";
import { TRPCClientError } from "@trpc/client";
import { loadOrSignIn } from "#lib/navigation.ts";
import { trpc } from "#lib/trpc.ts";
import type { PageLoad } from "./$types";

/** The instance and the account's firewalls (the per-request dropdown). */
export const load: PageLoad = ({ url, params }) =>
  loadOrSignIn(url, async () => {
    try {
      const [instance, firewalls] = await Promise.all([trpc.instances.get.query({ id: params.id }), trpc.firewalls.list.query()]);
      return { instance, firewalls };
    } catch (caught) {
      if (caught instanceof TRPCClientError && caught.data?.code === "NOT_FOUND") error(404, "There is no such instance in this account.");
      throw caught;
    }
  });

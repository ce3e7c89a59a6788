import { error } from "@sveltejs/kit";
import { TRPCClientError } from "@trpc/client";
import { loadOrSignIn } from "#lib/navigation.ts";
import { trpc } from "#lib/trpc.ts";
import type { PageLoad } from "./$types";

/**
 * The instance, its metering, the catalog (Settings offers its GPU types) and the account's balance (the runway while it runs).
 * Another account's id reads as one that does not exist.
 */
export const load: PageLoad = ({ url, params }) =>
  loadOrSignIn(url, async () => {
    try {
      const [instance, metered, catalog, balance] = await Promise.all([
        trpc.instances.get.query({ id: params.id }),
        trpc.instances.metered.query({ id: params.id }),
        trpc.instances.catalog.query(),
        trpc.billing.balance.query(),
      ]);
      return { instance, metered, catalog, balance };
    } catch (caught) {
      if (caught instanceof TRPCClientError && caught.data?.code === "NOT_FOUND") error(404, "There is no such instance in this account.");
      throw caught;
    }
  });

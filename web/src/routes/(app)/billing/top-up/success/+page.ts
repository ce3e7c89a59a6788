import { loadOrSignIn } from "#lib/navigation.ts";
import { describeError, trpc } from "#lib/trpc.ts";
import { CHECKOUT_SESSION_ID } from "../../checkout-urls";
import type { PageLoad } from "./$types";

/** The checkout the gateway sent the person back from; null when the link names none of this account's. */
export const load: PageLoad = ({ url }) =>
  loadOrSignIn(url, async () => {
    const id = url.searchParams.get("session_id");
    if (!id || id === CHECKOUT_SESSION_ID) return { id, checkout: null };
    const checkout = await trpc.billing.checkout.query({ id }).catch((error: unknown) => {
      // Another account's checkout answers exactly like one that does not exist; a mangled id is refused as input.
      if (["NOT_FOUND", "BAD_REQUEST"].includes(describeError(error).code)) return null;
      throw error;
    });
    return { id, checkout };
  });

import { redirect } from "@sveltejs/kit";
import { signInUrl } from "#lib/navigation.ts";
import { describeError, trpc } from "#lib/trpc.ts";
import type { PageLoad } from "./$types";

/**
 * The development gateway's checkout: outside the app shell, like Stripe's
 * hosted page, but it acts as the signed-in person, so a visitor signs in first.
 */
export const load: PageLoad = async ({ params, url }) => {
  const me = await trpc.auth.me.query();
  if (me?.kind !== "user") redirect(307, signInUrl(url));
  const checkout = await trpc.billing.checkout.query({ id: params.id }).catch((error: unknown) => {
    // Another account's checkout answers exactly like one that does not exist.
    if (["NOT_FOUND", "BAD_REQUEST"].includes(describeError(error).code)) return null;
    throw error;
  });
  const account = me.accounts.find((candidate) => candidate.id === me.accountId);
  return { id: params.id, checkout, email: me.email, accountName: account?.name ?? "your account" };
};

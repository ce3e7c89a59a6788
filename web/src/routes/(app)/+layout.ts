import { redirect } from "@sveltejs/kit";
import { signInUrl } from "#lib/navigation.ts";
import { trpc } from "#lib/trpc.ts";
import type { LayoutLoad } from "./$types";

/** Every page of the app needs a signed-in person; the rest are sent to sign in and brought back. */
export const load: LayoutLoad = async ({ url }) => {
  const me = await trpc.auth.me.query();
  if (me?.kind !== "user" || !me.email) redirect(307, signInUrl(url));
  return { me: { ...me, email: me.email } };
};

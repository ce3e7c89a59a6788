import { redirect } from "@sveltejs/kit";
import { trpc } from "#lib/trpc.ts";
import type { LayoutLoad } from "./$types";

/** Every page of the app needs a signed-in person; the rest are sent to sign in and brought back. */
export const load: LayoutLoad = async ({ url }) => {
  const me = await trpc.auth.me.query();
  if (!me || me.kind !== "user" || !me.email) redirect(307, `/login?next=${encodeURIComponent(url.pathname)}`);
  return { me: { ...me, email: me.email } };
};

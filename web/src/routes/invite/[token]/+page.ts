import { trpc } from "#lib/trpc.ts";
import type { PageLoad } from "./$types";

/** The preview is public; who is signed in decides between "Accept" and "Sign up / Sign in". */
export const load: PageLoad = async ({ params }) => {
  const [me, preview] = await Promise.all([
    trpc.auth.me.query(),
    // Unknown, revoked, used, expired or malformed: the page says the link is not valid.
    trpc.account.previewInvite.query({ token: params.token }).catch(() => null),
  ]);
  return { me, preview, token: params.token };
};

import { redirect } from "@sveltejs/kit";
import { goto } from "$app/navigation";
import { afterSignIn, type PageUrl } from "./navigation";
import { toast } from "./toasts.svelte";
import { describeError, trpc } from "./trpc";

/**
 * Load for /login and /signup: someone already signed in goes on (to the
 * invite they followed, or the app), and an invite link's preview is fetched
 * so the form can say what they are joining.
 */
export async function loadAuthPage(url: URL) {
  const invite = url.searchParams.get("invite");
  const me = await trpc.auth.me.query();
  if (me) redirect(307, invite ? `/invite/${encodeURIComponent(invite)}` : afterSignIn(url));
  const preview = invite ? await trpc.account.previewInvite.query({ token: invite }).catch(() => null) : null;
  return { invite, preview };
}

/** After sign-up or sign-in: accept the invite the person came with, then open the app. */
export async function finishSignIn(url: PageUrl, invitedTo?: string) {
  const invite = url.searchParams.get("invite");
  if (invite) {
    try {
      await trpc.account.acceptInvite.mutate({ token: invite });
      toast("success", invitedTo ? `You joined ${invitedTo}.` : "Invite accepted.");
    } catch (error) {
      toast("error", describeError(error).message);
    }
    await goto("/instances");
    return;
  }
  await goto(afterSignIn(url));
}

/** Keeps `?invite=` (and `?next=`) when moving between sign-in and sign-up. */
export function withAuthParams(path: string, url: PageUrl): string {
  const params = new URLSearchParams();
  for (const key of ["invite", "next"]) {
    const value = url.searchParams.get(key);
    if (value) params.set(key, value);
  }
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}

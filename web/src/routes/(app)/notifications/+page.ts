import { loadOrSignIn } from "#lib/navigation.ts";
import { NOTIFICATIONS_PAGE } from "#lib/notifications.svelte.ts";
import { trpc } from "#lib/trpc.ts";
import type { PageLoad } from "./$types";

/** The filter lives in the URL (`?unread=1`), so the unread list can be reloaded and shared. */
export const load: PageLoad = ({ url }) =>
  loadOrSignIn(url, async () => {
    const unreadOnly = url.searchParams.get("unread") === "1";
    const page = await trpc.notifications.list.query({ limit: NOTIFICATIONS_PAGE, unreadOnly });
    return { page, unreadOnly };
  });

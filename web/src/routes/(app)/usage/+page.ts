import { loadOrSignIn } from "#lib/navigation.ts";
import { trpc } from "#lib/trpc.ts";
import { rangeFrom, viewerTimeZone } from "#lib/usage.ts";
import type { PageLoad } from "./$types";

/** The range lives in the URL (`?range=90d`), so a view can be reloaded and shared; buckets follow the viewer's zone. */
export const load: PageLoad = ({ url }) =>
  loadOrSignIn(url, async () => {
    const range = rangeFrom(url.searchParams.get("range"), "30d");
    const timeZone = viewerTimeZone();
    const usage = await trpc.usage.account.query({ range, timeZone });
    return { usage, range, timeZone };
  });

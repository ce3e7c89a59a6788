import { redirect } from "@sveltejs/kit";
import { isUnauthorized } from "./trpc";

/** What these helpers read of a URL: `page.url` from $app/state is a read-only URL. */
export interface PageUrl {
  pathname: string;
  searchParams: Pick<URLSearchParams, "get">;
}

/** Where to go after signing in: a same-site path from `?next=`, else the instances list. */
export function afterSignIn(url: PageUrl): string {
  const next = url.searchParams.get("next");
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/instances";
}

/** For page loads: a session that ended mid-visit sends the person to sign in, then back. */
export async function loadOrSignIn<T>(url: PageUrl, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isUnauthorized(error)) redirect(307, `/login?next=${encodeURIComponent(url.pathname)}`);
    throw error;
  }
}

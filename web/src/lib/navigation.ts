import { redirect } from "@sveltejs/kit";
import { sameOriginPath } from "./return-path";
import { isUnauthorized } from "./trpc";

/** What these helpers read of a URL: `page.url` from $app/state is a read-only URL. */
export interface PageUrl {
  origin: string;
  pathname: string;
  search?: string;
  searchParams: Pick<URLSearchParams, "get">;
}

/** The sign-in page, coming back to this exact page (query included, e.g. a checkout's session_id). */
export function signInUrl(url: PageUrl): string {
  return `/login?next=${encodeURIComponent(url.pathname + (url.search ?? ""))}`;
}

/** Where to go after signing in: a same-origin path from `?next=`, else the instances list. */
export function afterSignIn(url: PageUrl): string {
  return sameOriginPath(url.searchParams.get("next"), url.origin) ?? "/instances";
}

/** For page loads: a session that ended mid-visit sends the person to sign in, then back. */
export async function loadOrSignIn<T>(url: PageUrl, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isUnauthorized(error)) redirect(307, signInUrl(url));
    throw error;
  }
}

import { redirect } from "@sveltejs/kit";
import { playgroundHref } from "../../playground/url";
import type { PageLoad } from "./$types";

/** The playground was a page here; it is a sheet over the instance's page now, and old links open it. */
export const load: PageLoad = ({ params }) => redirect(307, playgroundHref(params.id));

import { loadAuthPage } from "#lib/auth-flow.ts";
import type { PageLoad } from "./$types";

export const load: PageLoad = ({ url }) => loadAuthPage(url);

import { loadOrSignIn } from "#lib/navigation.ts";
import { trpc } from "#lib/trpc.ts";
import type { PageLoad } from "./$types";

export const load: PageLoad = ({ url }) => loadOrSignIn(url, async () => ({ instances: await trpc.instances.list.query() }));

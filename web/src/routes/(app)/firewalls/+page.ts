import { loadOrSignIn } from "#lib/navigation.ts";
import { trpc } from "#lib/trpc.ts";
import type { PageLoad } from "./$types";

/** The firewalls, and the instances by id so the list can name where each one is attached. */
export const load: PageLoad = ({ url }) =>
  loadOrSignIn(url, async () => {
    const [firewalls, instances] = await Promise.all([trpc.firewalls.list.query(), trpc.instances.list.query()]);
    return { firewalls, instanceNames: Object.fromEntries(instances.map((i) => [i.id, i.displayName])) as Record<string, string> };
  });

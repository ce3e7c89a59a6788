import type { InstanceItem } from "#lib/instances.ts";
import { toast } from "#lib/toasts.svelte.ts";
import { describeError, trpc } from "#lib/trpc.ts";

type Named = Pick<InstanceItem, "id" | "displayName">;

/** Start or Stop from a row or an instance's page: the outcome as a toast; true when the api accepted it. */
export async function changeState(instance: Named, verb: "start" | "stop"): Promise<boolean> {
  try {
    await trpc.instances[verb].mutate({ id: instance.id });
    toast("success", verb === "start" ? `Starting ${instance.displayName}.` : `Stopping ${instance.displayName}.`);
    return true;
  } catch (error) {
    toast("error", describeError(error).message);
    return false;
  }
}

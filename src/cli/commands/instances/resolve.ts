import type { Client, Outputs } from "../../client";
import { CliError, UsageError } from "../../errors";

type ListedInstance = Outputs["instances"]["list"][number];

/**
 * An instance given as an id or a name, as `budgets --instance` and `schedules <instance>` take it; the api takes
 * ids only. The account's instances are listed once, an id wins over a name, and a name must belong to exactly
 * one of them. `label` is what the person typed it as (`--instance`, `instance`), so the error names it.
 */
export async function resolveInstance(client: Client, given: string, label: string): Promise<ListedInstance> {
  const instances = await client.instances.list.query();
  const byId = instances.find((instance) => instance.id === given);
  if (byId) return byId;
  const named = instances.filter((instance) => instance.name === given);
  if (named.length === 1) return named[0]!;
  if (named.length > 1) {
    throw new UsageError(`${label}: ${named.length} instances are named '${given}' (${named.map((i) => i.id).join(", ")}). Give the id instead.`);
  }
  throw new CliError(`${label}: no instance '${given}' in this account. \`qdz instances list\` lists them.`, "NOT_FOUND");
}

import { and, eq, inArray, isNull } from "drizzle-orm";
import { instances } from "../../db/schema";
import type { AccountContext } from "../context";
import { NotFoundError } from "../errors";
import type { Instance } from "./transition";

/** An instance of the caller's account; another account's id answers exactly like a missing one. */
export async function getInstance(ctx: AccountContext, instanceId: string, options: { lock?: boolean } = {}): Promise<Instance> {
  const query = ctx.db
    .select()
    .from(instances)
    .where(and(eq(instances.id, instanceId), eq(instances.accountId, ctx.accountId), isNull(instances.deletedAt)));
  const [instance] = options.lock ? await query.for("update") : await query;
  if (!instance) throw new NotFoundError("Instance", instanceId);
  return instance;
}

/** Several instances of the caller's account, all or none: one foreign or missing id fails the whole request. */
export async function getInstances(ctx: AccountContext, instanceIds: string[]): Promise<Instance[]> {
  const unique = [...new Set(instanceIds)];
  const rows = await ctx.db
    .select()
    .from(instances)
    .where(and(inArray(instances.id, unique), eq(instances.accountId, ctx.accountId), isNull(instances.deletedAt)))
    .for("update");
  const missing = unique.find((id) => !rows.some((row) => row.id === id));
  if (missing) throw new NotFoundError("Instance", missing);
  return unique.map((id) => rows.find((row) => row.id === id)!);
}

/** The name people see: the display name, or the short id. */
export function displayName(instance: Pick<Instance, "id" | "name">): string {
  return instance.name ?? instance.id.slice(0, 13);
}

import { and, asc, eq, isNotNull, isNull } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { instances } from "../../db/schema";

/** OpenAI's `ListModelsResponse`: the account's running instances, by serving name. */
export async function listModels(db: Executor, accountId: string) {
  const rows = await db
    .select({ servingName: instances.servingName, createdAt: instances.createdAt })
    .from(instances)
    .where(and(eq(instances.accountId, accountId), eq(instances.state, "running"), isNotNull(instances.servingName), isNull(instances.deletedAt)))
    .orderBy(asc(instances.createdAt));
  return {
    object: "list" as const,
    data: rows.map((row) => ({
      id: row.servingName!,
      object: "model" as const,
      created: Math.floor(new Date(row.createdAt).getTime() / 1000),
      owned_by: accountId,
    })),
  };
}

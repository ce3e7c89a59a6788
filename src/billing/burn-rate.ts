import { and, eq, isNull, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { instances } from "../../db/schema";

/** What the account's running instances cost per hour together, from their locked rates. */
export async function burnRateCentsPerHour(db: Executor, accountId: string): Promise<number> {
  const [row] = await db
    .select({ total: sql<string>`coalesce(sum(${instances.rateCentsPerHour}), 0)` })
    .from(instances)
    .where(and(eq(instances.accountId, accountId), eq(instances.state, "running"), isNull(instances.deletedAt)));
  return Number(row?.total ?? 0);
}

/** How long the balance lasts at the burn rate, in seconds; null when nothing is burning it. */
export function runwaySeconds(balanceCents: number, burnCentsPerHour: number): number | null {
  if (burnCentsPerHour <= 0) return null;
  return Math.max(0, Math.floor((balanceCents / burnCentsPerHour) * 3600));
}

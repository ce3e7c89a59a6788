import { hostname } from "node:os";
import { resolve } from "node:path";
import { sql } from "drizzle-orm";
import type { Executor } from "../../../db/client";
import { withTransaction } from "../../context";

/**
 * One step at a time among every process that runs pods from `podsDir` on this machine (the worker
 * replicas): a transaction-scoped PostgreSQL advisory lock named by the machine and the directory. The
 * database releases it when the step's transaction ends, or when its holder is killed mid-step.
 */
export function machineLock(db: Executor, podsDir: string): <T>(step: () => T) => Promise<T> {
  const name = `qdz:local-pods:${hostname()}:${resolve(podsDir)}`;
  return (step) =>
    withTransaction(db, async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${name}))`);
      return step();
    });
}

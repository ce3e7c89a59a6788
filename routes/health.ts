import { sql } from "drizzle-orm";
import { Elysia } from "elysia";
import type { Database } from "../db/client";
import { shippedMigrationCount } from "../db/migrate";

/** /healthz: the process answers. /readyz: it can serve, i.e. the database is reachable and fully migrated. */
export function healthRoutes(db: Database) {
  const expected = shippedMigrationCount();
  return new Elysia({ name: "health" })
    .get("/healthz", () => ({ status: "ok" }))
    .get("/readyz", async ({ set }) => {
      try {
        const rows = await db.execute<{ applied: number }>(sql`select count(*)::int as applied from drizzle.__drizzle_migrations`);
        const applied = rows[0]?.applied ?? 0;
        if (applied < expected) {
          set.status = 503;
          return { status: "migrating", database: "reachable", migrations: { applied, expected } };
        }
        return { status: "ready", database: "reachable", migrations: { applied, expected } };
      } catch (error) {
        set.status = 503;
        return { status: "unavailable", database: "unreachable", error: (error as Error).message };
      }
    });
}

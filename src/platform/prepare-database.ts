import type { Database } from "../../db/client";
import { applyMigrations } from "../../db/migrate";
import { syncCatalog } from "../catalog/sync";

/** Everything a database needs before the api and workers use it: the schema, then the catalog. */
export async function prepareDatabase(db: Database): Promise<void> {
  await applyMigrations(db);
  await syncCatalog(db);
}

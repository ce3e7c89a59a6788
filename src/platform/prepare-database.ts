import type { Database } from "../../db/client";
import { applyMigrations } from "../../db/migrate";
import { syncCatalog } from "../catalog/sync";
import { grantAppPrivileges } from "./app-privileges";
import type { DatabaseAccess } from "./database-access";
import { installJobSchema } from "./job-schema";

/**
 * Everything a database needs before the api and workers use it: the schema,
 * the app role's privileges and pg-boss's tables (when the app has a role of
 * its own), then the catalog. `db` connects as the owner.
 */
export async function prepareDatabase(db: Database, access?: Pick<DatabaseAccess, "appUrl" | "appRole">): Promise<void> {
  await applyMigrations(db);
  if (access?.appRole) {
    await grantAppPrivileges(db, access.appRole);
    await installJobSchema(access.appUrl);
  }
  await syncCatalog(db);
}

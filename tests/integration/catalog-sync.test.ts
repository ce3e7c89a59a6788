/** The catalog file written into PostgreSQL at every start: rows follow the file; a price's time moves only when it changes. */
import { expect, test } from "bun:test";
import { gpuTypes, prices, runtimes, templates } from "../../db/schema";
import { loadCatalogFile, syncCatalog } from "../../src/catalog/sync";
import { freshDatabase } from "../support/db";

const { db } = await freshDatabase();

const byKey = (rows: (typeof prices.$inferSelect)[]) => new Map(rows.map((row) => [`${row.gpuTypeId}/${row.tier}/${row.modelClass}`, row]));

test("syncing the same file again changes nothing; an edited file updates its rows, and only a changed price's time", async () => {
  const catalog = loadCatalogFile();
  await syncCatalog(db, catalog);
  const before = byKey(await db.select().from(prices));
  expect(before.size).toBe(catalog.price.length * 4);
  expect(await db.$count(gpuTypes)).toBe(catalog.gpu.length);
  expect(await db.$count(runtimes)).toBe(catalog.runtime.length);
  expect(await db.$count(templates)).toBe(catalog.template.length);

  await syncCatalog(db, catalog);
  expect(byKey(await db.select().from(prices))).toEqual(before);

  const edited = structuredClone(catalog);
  edited.gpu[0]!.name = "Renamed GPU";
  edited.runtime[0]!.port = 9999;
  edited.template.reverse();
  edited.price[0]!.llm += 7;
  await syncCatalog(db, edited);

  const gpu = (await db.select().from(gpuTypes)).find((g) => g.id === edited.gpu[0]!.id)!;
  expect(gpu.name).toBe("Renamed GPU");
  expect((await db.select().from(runtimes)).find((r) => r.id === edited.runtime[0]!.id)!.port).toBe(9999);
  const positions = Object.fromEntries((await db.select().from(templates)).map((t) => [t.id, t.position]));
  expect(edited.template.map((t) => positions[t.id])).toEqual(edited.template.map((_, i) => i));

  const after = byKey(await db.select().from(prices));
  const changedKey = `${edited.price[0]!.gpu}/${edited.price[0]!.tier}/llm`;
  for (const [key, row] of after) {
    if (key === changedKey) {
      expect(row.rateCentsPerGpuHour).toBe(before.get(key)!.rateCentsPerGpuHour + 7);
      expect(row.updatedAt.getTime()).toBeGreaterThan(before.get(key)!.updatedAt.getTime());
    } else {
      expect(row).toEqual(before.get(key)!);
    }
  }
});

import { getTableColumns, sql } from "drizzle-orm";
import type { AnyPgColumn, PgTable } from "drizzle-orm/pg-core";
import { z } from "zod";
import type { Executor } from "../../db/client";
import { gpuTypes, prices, runtimes, templates } from "../../db/schema";
import { withTransaction } from "../context";
import catalogFile from "./catalog.toml";

/** `name@sha256:<64 hex>`: the only form of image that can launch. */
export const PINNED_IMAGE = /^[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64}$/;

const image = z.string().regex(PINNED_IMAGE, { message: "must be pinned by digest (name@sha256:…)" });
const cents = z.number().int().positive();

const catalogSchema = z.object({
  gpu: z.array(z.object({ id: z.string(), name: z.string(), vram_gib: z.number().int().positive() })).min(1),
  runtime: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      image,
      command: z.array(z.string()).min(1),
      port: z.number().int().positive(),
      health_path: z.string().startsWith("/"),
      local_binary: z.string(),
      architectures: z.array(z.string()).min(1),
      tasks: z.array(z.enum(["chat", "completion", "embeddings"])).min(1),
      modalities: z.array(z.enum(["text", "image"])).min(1),
      formats: z.array(z.enum(["safetensors", "gguf"])).min(1),
      default_context_length: z.number().int().positive(),
    }),
  ),
  template: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      description: z.string(),
      image,
      runtime: z.string().optional(),
      ports: z.array(z.object({ port: z.number().int().positive(), name: z.string() })),
    }),
  ),
  price: z.array(
    z.object({
      gpu: z.string(),
      tier: z.enum(["secure", "community"]),
      pod: cents,
      embeddings: cents,
      llm: cents,
      llm_large: cents,
      provider_cost: cents,
    }),
  ),
});

export type CatalogFile = z.infer<typeof catalogSchema>;

/** The catalog file, checked: every image pinned, every price for a known GPU, every template's runtime known. */
export function loadCatalogFile(raw: unknown = catalogFile): CatalogFile {
  const catalog = catalogSchema.parse(raw);
  const gpus = new Set(catalog.gpu.map((g) => g.id));
  const runtimeIds = new Set(catalog.runtime.map((r) => r.id));
  for (const row of catalog.price) if (!gpus.has(row.gpu)) throw new Error(`catalog: price for unknown GPU ${row.gpu}`);
  for (const t of catalog.template)
    if (t.runtime && !runtimeIds.has(t.runtime)) throw new Error(`catalog: template ${t.id} names unknown runtime ${t.runtime}`);
  return catalog;
}

/** The value an upsert proposed for `column` (PostgreSQL's `excluded` row). */
const excluded = (column: AnyPgColumn) => sql.raw(`excluded."${column.name}"`);

/** An upsert's `set`: these columns take the proposed values. */
function proposed<T extends PgTable>(table: T, keys: (keyof T["_"]["columns"] & string)[]) {
  const columns = getTableColumns(table) as Record<string, AnyPgColumn>;
  return Object.fromEntries(keys.map((key) => [key, excluded(columns[key]!)]));
}

/**
 * Writes the catalog file into PostgreSQL (insert or update by id), one
 * statement per table: it runs at every start. Running instances are
 * untouched: they carry their own pricing snapshot and runtime config.
 */
export async function syncCatalog(db: Executor, catalog: CatalogFile = loadCatalogFile()): Promise<void> {
  const gpuRows = catalog.gpu.map((gpu) => ({ id: gpu.id, name: gpu.name, vramGib: gpu.vram_gib }));
  const runtimeRows = catalog.runtime.map((r) => ({
    id: r.id,
    name: r.name,
    image: r.image,
    command: r.command,
    port: r.port,
    healthPath: r.health_path,
    localBinary: r.local_binary,
    architectures: r.architectures,
    tasks: r.tasks,
    modalities: r.modalities,
    formats: r.formats,
    defaultContextLength: r.default_context_length,
  }));
  const templateRows = catalog.template.map((t, position) => ({
    id: t.id,
    name: t.name,
    description: t.description,
    image: t.image,
    runtimeId: t.runtime ?? null,
    ports: t.ports,
    position,
  }));
  const priceRows = catalog.price.flatMap((p) =>
    (["pod", "embeddings", "llm", "llm_large"] as const).map((modelClass) => ({
      gpuTypeId: p.gpu,
      tier: p.tier,
      modelClass,
      rateCentsPerGpuHour: p[modelClass],
      providerCostCentsPerGpuHour: p.provider_cost,
    })),
  );
  await withTransaction(db, async (tx) => {
    await tx
      .insert(gpuTypes)
      .values(gpuRows)
      .onConflictDoUpdate({ target: gpuTypes.id, set: proposed(gpuTypes, ["name", "vramGib"]) });
    await tx
      .insert(runtimes)
      .values(runtimeRows)
      .onConflictDoUpdate({
        target: runtimes.id,
        set: proposed(runtimes, [
          "name",
          "image",
          "command",
          "port",
          "healthPath",
          "localBinary",
          "architectures",
          "tasks",
          "modalities",
          "formats",
          "defaultContextLength",
        ]),
      });
    await tx
      .insert(templates)
      .values(templateRows)
      .onConflictDoUpdate({ target: templates.id, set: proposed(templates, ["name", "description", "image", "runtimeId", "ports", "position"]) });
    await tx
      .insert(prices)
      .values(priceRows)
      .onConflictDoUpdate({
        target: [prices.gpuTypeId, prices.tier, prices.modelClass],
        set: {
          ...proposed(prices, ["rateCentsPerGpuHour", "providerCostCentsPerGpuHour"]),
          // Only a real change moves updated_at, so snapshots show when a price last changed.
          updatedAt: sql`case when ${prices.rateCentsPerGpuHour} <> ${excluded(prices.rateCentsPerGpuHour)} or ${prices.providerCostCentsPerGpuHour} <> ${excluded(prices.providerCostCentsPerGpuHour)} then now() else ${prices.updatedAt} end`,
        },
      });
  });
}

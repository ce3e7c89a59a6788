import { integer, jsonb, pgEnum, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns";

/** Synced from src/catalog/catalog.toml at start; instances copy what they use, so rows may change freely. */
export const gpuTypes = pgTable("gpu_types", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  vramGib: integer("vram_gib").notNull(),
});

export const runtimes = pgTable("runtimes", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** `name@sha256:…`: only digest-pinned catalog images launch. */
  image: text("image").notNull(),
  /** argv with `{placeholders}` filled at launch. */
  command: jsonb("command").$type<string[]>().notNull(),
  port: integer("port").notNull(),
  healthPath: text("health_path").notNull(),
  /** The program the local provider runs when installed; empty means always the reference runtime. */
  localBinary: text("local_binary").notNull(),
  /** Hugging Face architectures (or GGUF `general.architecture` names) it serves; `*` is any. */
  architectures: jsonb("architectures").$type<string[]>().notNull(),
  tasks: jsonb("tasks").$type<("chat" | "completion" | "embeddings")[]>().notNull(),
  modalities: jsonb("modalities").$type<("text" | "image")[]>().notNull(),
  formats: jsonb("formats").$type<("safetensors" | "gguf")[]>().notNull(),
  defaultContextLength: integer("default_context_length").notNull(),
});

export interface TemplatePort {
  port: number;
  name: string;
}

export const templates = pgTable("templates", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  description: text("description").notNull(),
  image: text("image").notNull(),
  /** Set for templates that serve a model (vLLM, Ollama); null for plain pods. */
  runtimeId: text("runtime_id"),
  ports: jsonb("ports").$type<TemplatePort[]>().notNull(),
  position: integer("position").notNull(),
});

export const capacityTier = pgEnum("capacity_tier", ["secure", "community"]);
export const modelClass = pgEnum("model_class", ["pod", "embeddings", "llm", "llm_large"]);

/** The price table: what a user pays per GPU-hour, and separately what the capacity costs us. */
export const prices = pgTable(
  "prices",
  {
    gpuTypeId: text("gpu_type_id").notNull(),
    tier: capacityTier("tier").notNull(),
    modelClass: modelClass("model_class").notNull(),
    rateCentsPerGpuHour: integer("rate_cents_per_gpu_hour").notNull(),
    providerCostCentsPerGpuHour: integer("provider_cost_cents_per_gpu_hour").notNull(),
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: "prices_pkey", columns: [t.gpuTypeId, t.tier, t.modelClass] })],
);

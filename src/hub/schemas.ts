import { z } from "zod";

/**
 * The parts of the hub's `GET /api/models/{repo}?blobs=true` answer this
 * module reads. Everything else passes through untouched (`loose`), so a new
 * field on the hub never breaks parsing.
 */
const sibling = z
  .object({
    rfilename: z.string(),
    /** Only with `?blobs=true`. */
    size: z.number().nonnegative().optional(),
  })
  .loose();

export const modelInfoSchema = z
  .object({
    id: z.string(),
    /** `false`, or how access is granted: `"auto"` (click-through) or `"manual"` (the owner approves). */
    gated: z.union([z.boolean(), z.enum(["auto", "manual"])]).default(false),
    private: z.boolean().optional(),
    disabled: z.boolean().optional(),
    pipeline_tag: z.string().optional(),
    tags: z.array(z.string()).default([]),
    library_name: z.string().optional(),
    /** A digest of config.json the hub keeps: architectures and model type only. */
    config: z
      .object({ architectures: z.array(z.string()).optional(), model_type: z.string().optional() })
      .loose()
      .optional(),
    /** Parameter counts per dtype, read by the hub from the safetensors headers. */
    safetensors: z
      .object({ parameters: z.record(z.string(), z.number().nonnegative()), total: z.number().nonnegative() })
      .loose()
      .optional(),
    /** For GGUF repos: read by the hub from one of the GGUF files' header. */
    gguf: z
      .object({ total: z.number().nonnegative().optional(), architecture: z.string().optional(), context_length: z.number().positive().optional() })
      .loose()
      .optional(),
    siblings: z.array(sibling).default([]),
    cardData: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();

export type ModelInfo = z.output<typeof modelInfoSchema>;
export type ModelInfoInput = z.input<typeof modelInfoSchema>;
export type RepoSibling = z.output<typeof sibling>;

/** A config.json: any JSON object. The fields read from it are looked up defensively (see model-shape.ts). */
export const modelConfigSchema = z.record(z.string(), z.unknown());
export type ModelConfig = z.output<typeof modelConfigSchema>;

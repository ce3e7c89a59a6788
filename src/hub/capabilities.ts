import type { ModelConfig, ModelInfo } from "./schemas";

/** What a launch asks of a model, in the platform's words. */
export type Task = "chat" | "completion" | "embeddings";
export type Modality = "text" | "image";
export type WeightFormat = "safetensors" | "gguf" | "pytorch";

/** What a runtime can load and serve; the runtimes module owns the real lists. */
export interface RuntimeSupport {
  name: string;
  /**
   * HF architectures (`Qwen2ForCausalLM`) for safetensors runtimes, GGUF
   * `general.architecture` names (`qwen2`) for llama.cpp; `"*"` for a runtime
   * that serves any (the reference runtime).
   */
  architectures: string[];
  tasks: Task[];
  modalities: Modality[];
  formats: WeightFormat[];
}

const EMBEDDING_PIPELINES = new Set(["feature-extraction", "sentence-similarity"]);
const GENERATION_PIPELINES = new Set(["text-generation", "text2text-generation", "image-text-to-text", "conversational"]);
const IMAGE_TAGS = ["image-text-to-text", "multimodal-embedding", "visual-document-retrieval", "vision-language"];

/** A pipeline tag as a person would say it: `automatic-speech-recognition` → "automatic speech recognition". */
export function describePipeline(tag: string | undefined): string {
  return tag ? tag.replace(/-/g, " ") : "unknown task";
}

/**
 * The tasks a repo can serve, from the hub's pipeline tag, its tags and its
 * architecture. Chat needs a chat template: the hub tags a repo
 * `conversational` when its tokenizer config (or GGUF header) has one, so a
 * base model without it serves completion only. An empty list means none of
 * ours (speech recognition, image generation, …).
 */
export function detectTasks(info: ModelInfo, config: ModelConfig | null): Task[] {
  const pipeline = info.pipeline_tag;
  const tags = new Set(info.tags);
  const architecture = architectureOf(info, config) ?? "";
  const embedding =
    (pipeline !== undefined && EMBEDDING_PIPELINES.has(pipeline)) ||
    (pipeline === undefined && (tags.has("sentence-transformers") || tags.has("text-embeddings-inference") || /(Model|ForMaskedLM)$/.test(architecture)));
  if (embedding) return ["embeddings"];
  const generation =
    (pipeline !== undefined && GENERATION_PIPELINES.has(pipeline)) ||
    (pipeline === undefined && (/For(CausalLM|ConditionalGeneration)$/.test(architecture) || info.gguf !== undefined));
  if (!generation) return [];
  const chat = tags.has("conversational") || tags.has("chat") || typeof info.gguf?.chat_template === "string";
  return chat ? ["chat", "completion"] : ["completion"];
}

/** Inputs the model takes: text, and images for vision-language models and multimodal embedders. */
export function detectModalities(info: ModelInfo, config: ModelConfig | null): Modality[] {
  const image =
    info.pipeline_tag === "image-text-to-text" ||
    IMAGE_TAGS.some((tag) => info.tags.includes(tag)) ||
    (config !== null && typeof config.vision_config === "object" && config.vision_config !== null);
  return image ? ["text", "image"] : ["text"];
}

/** The weight formats the repo publishes, from its file list (and the hub's GGUF/safetensors digests). */
export function detectFormats(info: ModelInfo): WeightFormat[] {
  const files = info.siblings.map((s) => s.rfilename);
  const formats: WeightFormat[] = [];
  if (info.safetensors || files.some((f) => f.endsWith(".safetensors"))) formats.push("safetensors");
  if (info.gguf || files.some((f) => f.endsWith(".gguf"))) formats.push("gguf");
  if (files.some((f) => /(^|\/)pytorch_model[^/]*\.bin$/.test(f) || /\.pth$/.test(f))) formats.push("pytorch");
  return formats;
}

/** The HF architecture class: config.json's first, else the hub's digest of it. */
export function architectureOf(info: ModelInfo, config: ModelConfig | null): string | undefined {
  const fromConfig = Array.isArray(config?.architectures) ? config.architectures[0] : undefined;
  return typeof fromConfig === "string" ? fromConfig : info.config?.architectures?.[0];
}

/** The repo a quantized or fine-tuned repo names as its origin (`base_model:quantized:Qwen/…` tags, or the card). */
export function baseModelOf(info: ModelInfo): string | undefined {
  for (const prefix of ["base_model:quantized:", "base_model:finetune:", "base_model:"]) {
    const tag = info.tags.find((t) => t.startsWith(prefix) && !t.slice(prefix.length).includes(":"));
    if (tag) return tag.slice(prefix.length);
  }
  const card = info.cardData?.base_model;
  const first = Array.isArray(card) ? card[0] : card;
  return typeof first === "string" ? first : undefined;
}

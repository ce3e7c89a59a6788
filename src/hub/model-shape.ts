import type { ModelConfig } from "./schemas";
import type { AttentionConfig } from "./vram";

/**
 * Facts read from a config.json. Configs differ by family (`n_layer` in
 * GPT-2, `d_model` in Whisper, a nested `text_config` in multimodal models),
 * so every field is looked up under its known aliases.
 */

/** Encoder-only families: they embed a whole input at once and keep no KV cache. */
const ENCODER_ONLY = new Set([
  "bert",
  "roberta",
  "xlm-roberta",
  "distilbert",
  "camembert",
  "albert",
  "electra",
  "mpnet",
  "deberta",
  "deberta-v2",
  "nomic_bert",
  "new",
  "modernbert",
]);

/** The language model's part of a multimodal config (Qwen-VL, Llava, Gemma 3 keep it under `text_config`). */
export function textConfig(config: ModelConfig): ModelConfig {
  const nested = config.text_config ?? config.llm_config ?? config.language_config;
  return nested && typeof nested === "object" ? { ...(nested as ModelConfig) } : config;
}

function num(config: ModelConfig, ...keys: string[]): number | undefined {
  for (const key of keys) {
    const value = config[key];
    if (typeof value === "number" && Number.isFinite(value) && value > 0) return value;
  }
  return undefined;
}

export function isEncoderOnly(config: ModelConfig): boolean {
  return typeof config.model_type === "string" && ENCODER_ONLY.has(config.model_type) && config.is_decoder !== true;
}

/**
 * What the KV cache is made of: null for encoder-only models (no cache),
 * undefined when the config does not say enough.
 */
export function attentionConfig(config: ModelConfig): AttentionConfig | null | undefined {
  return isEncoderOnly(config) ? null : layerShape(config);
}

function layerShape(config: ModelConfig): AttentionConfig | undefined {
  const text = textConfig(config);
  const layers = num(text, "num_hidden_layers", "n_layer", "num_layers", "decoder_layers");
  const heads = num(text, "num_attention_heads", "n_head", "decoder_attention_heads");
  const hidden = num(text, "hidden_size", "n_embd", "d_model");
  const headDim = num(text, "head_dim");
  if (!layers || !heads || (!hidden && !headDim)) return undefined;
  return {
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: num(text, "num_key_value_heads", "num_kv_heads", "n_head_kv") ?? heads,
    head_dim: headDim ?? hidden! / heads,
    hidden_size: hidden,
  };
}

/** The longest context the model was built for. */
export function maxContextLength(config: ModelConfig): number | undefined {
  const text = textConfig(config);
  return num(text, "max_position_embeddings", "n_positions", "max_sequence_length", "seq_length", "max_target_positions");
}

/** config.json's `torch_dtype` (or `dtype`, its newer name). */
export function configDtype(config: ModelConfig): string | undefined {
  for (const c of [config, textConfig(config)]) {
    const value = c.torch_dtype ?? c.dtype;
    if (typeof value === "string") return value;
  }
  return undefined;
}

/**
 * The parameter count implied by a transformer config, for repos without
 * safetensors metadata. Per layer: attention Q and O (hidden × heads ×
 * head_dim each), K and V (hidden × kv_heads × head_dim each); the MLP,
 * 3 × hidden × intermediate when gated (SiLU/GELU-gated, Llama-style) or
 * 2 × when not (BERT, GPT-2), times the experts for MoE; two norms. Plus the
 * token embedding (twice when the output head is not tied), learned position
 * embeddings for encoders, and the final norm. Biases and vision towers are
 * left out: within 1 % for text models (Qwen2.5-0.5B: 494.0M vs 494.0M,
 * Llama 3.1 8B exact), low for multimodal ones.
 */
export function estimateParameterCount(config: ModelConfig): number | undefined {
  const text = textConfig(config);
  const attention = layerShape(config);
  const hidden = num(text, "hidden_size", "n_embd", "d_model");
  const vocab = num(text, "vocab_size");
  if (!attention || !hidden || !vocab) return undefined;
  const heads = attention.num_attention_heads!;
  const kvHeads = attention.num_key_value_heads!;
  const headDim = attention.head_dim!;
  const intermediate = num(text, "intermediate_size", "n_inner", "ffn_dim", "decoder_ffn_dim") ?? 4 * hidden;
  const experts = num(text, "num_local_experts", "num_experts", "n_routed_experts") ?? 1;
  const expertIntermediate = num(text, "moe_intermediate_size") ?? intermediate;
  const gated = isGatedMlp(text);
  const encoder = isEncoderOnly(config);

  const attentionParams = hidden * headDim * (2 * heads + 2 * kvHeads);
  const mlpParams = experts > 1 ? experts * 3 * hidden * expertIntermediate + hidden * experts : (gated ? 3 : 2) * hidden * intermediate;
  const perLayer = attentionParams + mlpParams + 2 * hidden;
  const tied = text.tie_word_embeddings ?? config.tie_word_embeddings ?? true;
  const embeddings = vocab * hidden * (encoder || tied ? 1 : 2);
  const positions = encoder ? (num(text, "max_position_embeddings") ?? 0) * hidden : 0;
  return Math.round(embeddings + positions + attention.num_hidden_layers * perLayer + hidden);
}

/** Llama-style gated MLPs (gate, up, down) versus BERT/GPT-2's two matrices. */
function isGatedMlp(config: ModelConfig): boolean {
  const act = String(config.hidden_act ?? config.activation_function ?? "");
  const type = String(config.model_type ?? "");
  return act === "silu" || act === "swish" || act === "swiglu" || /^gemma/.test(type) || /^t5gemma/.test(type);
}

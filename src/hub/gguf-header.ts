/**
 * What validation makes of a GGUF repo's header (read by `src/gguf`): its
 * hyperparameters under config.json's names, so a GGUF repo's KV-cache shape
 * is known without downloading the weights.
 */
import type { GgufEntry } from "../gguf/format";
import type { GgufPrefix } from "../gguf/reader";

/**
 * The header's hyperparameters as config.json names them, so the rest of
 * the module reads one shape; undefined when the header lacks them.
 */
export function ggufAsConfig(metadata: Record<string, GgufEntry>): Record<string, unknown> | undefined {
  const arch = metadata["general.architecture"]?.value;
  if (typeof arch !== "string") return undefined;
  const n = (key: string) => {
    const value = metadata[`${arch}.${key}`]?.value;
    return typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : undefined;
  };
  const layers = n("block_count");
  const heads = n("attention.head_count");
  const hidden = n("embedding_length");
  if (!layers || !heads || !hidden) return undefined;
  return {
    model_type: arch,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: n("attention.head_count_kv") ?? heads,
    hidden_size: hidden,
    head_dim: n("attention.key_length") ?? hidden / heads,
    max_position_embeddings: n("context_length"),
  };
}

/**
 * True once reading more cannot change `ggufAsConfig`: every key/value was
 * read, or the tokenizer's keys have begun (llama.cpp writes the
 * architecture's hyperparameters before them). The tensor table is never needed.
 */
export function hasShape(prefix: GgufPrefix): boolean {
  if (prefix.metadataComplete) return true;
  return ggufAsConfig(prefix.metadata) !== undefined && Object.keys(prefix.metadata).some((key) => key.startsWith("tokenizer."));
}

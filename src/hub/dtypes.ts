/**
 * How many bytes one weight takes, by the dtype names the hub uses
 * (safetensors' `F32`, `BF16`, …), config.json's `torch_dtype`
 * (`bfloat16`, …) and GGUF's quantization types.
 */
const BYTES_PER_PARAMETER: Record<string, number> = {
  F64: 8,
  I64: 8,
  F32: 4,
  I32: 4,
  U32: 4,
  BF16: 2,
  F16: 2,
  I16: 2,
  U16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  F8_E8M0: 1,
  FP8: 1,
  I8: 1,
  U8: 1,
  INT8: 1,
  BOOL: 1,
  INT4: 0.5,
  Q4: 0.5,
  F4: 0.5,
};

const ALIASES: Record<string, string> = {
  FLOAT64: "F64",
  DOUBLE: "F64",
  FLOAT32: "F32",
  FP32: "F32",
  FLOAT: "F32",
  BFLOAT16: "BF16",
  FLOAT16: "F16",
  FP16: "F16",
  HALF: "F16",
  FLOAT8_E4M3FN: "F8_E4M3",
  FLOAT8_E5M2: "F8_E5M2",
  INT32: "I32",
  INT64: "I64",
  UINT8: "U8",
};

/**
 * Effective bits per weight of GGUF files, from llama.cpp's block layouts
 * (Q4_0 stores 32 weights in 18 bytes: 4.5 bits) and, for the `_S/_M/_L`
 * mixes that quantize some tensors higher, the sizes llama.cpp's quantize
 * tool reports for a 7–8B model. A file's real size, when the hub lists it,
 * beats this table: small models spend more on their (higher-precision)
 * embeddings.
 */
export const GGUF_BITS_PER_WEIGHT: Record<string, number> = {
  F32: 32,
  F16: 16,
  BF16: 16,
  Q8_0: 8.5,
  Q6_K: 6.5625,
  Q5_1: 6,
  Q5_K_M: 5.69,
  Q5_K_S: 5.54,
  Q5_0: 5.5,
  Q4_1: 5,
  Q4_K_M: 4.85,
  Q4_K_S: 4.58,
  Q4_0: 4.5,
  IQ4_NL: 4.5,
  IQ4_XS: 4.25,
  MXFP4: 4.25,
  Q3_K_L: 4.27,
  Q3_K_M: 3.91,
  IQ3_M: 3.66,
  Q3_K_S: 3.5,
  IQ3_XXS: 3.06,
  Q2_K: 3.0,
  IQ2_XS: 2.31,
  IQ2_XXS: 2.06,
  IQ1_M: 1.75,
  IQ1_S: 1.56,
};

/** The canonical upper-case name: `bfloat16` → `BF16`, `q4_k_m` → `Q4_K_M`, `fp16` → `F16`. */
export function normalizeDtype(dtype: string): string {
  const upper = dtype
    .trim()
    .toUpperCase()
    .replace(/^TORCH\./, "");
  return ALIASES[upper] ?? upper;
}

/** Bytes per weight, or undefined for a name this table does not know. */
export function bytesPerParameter(dtype: string): number | undefined {
  const name = normalizeDtype(dtype);
  const bits = GGUF_BITS_PER_WEIGHT[name];
  if (bits !== undefined) return bits / 8;
  return BYTES_PER_PARAMETER[name];
}

/** The quantization in a GGUF file name by the usual convention: `qwen2.5-0.5b-instruct-q4_k_m.gguf` → `Q4_K_M`. */
export function ggufQuantFromFileName(file: string): string | undefined {
  const base = file.split("/").pop() ?? file;
  const match = /(?:^|[-_.])(i?q\d(?:_[a-z0-9]+)*|bf16|fp16|f16|f32|mxfp4)(?:-\d{5}-of-\d{5})?\.gguf$/i.exec(base);
  return match ? normalizeDtype(match[1]!) : undefined;
}

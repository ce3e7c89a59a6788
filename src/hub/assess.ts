import { architectureOf, detectFormats, detectModalities, detectTasks, type Modality, type RuntimeSupport, type Task, type WeightFormat } from "./capabilities";
import type { ModelMetadata } from "./metadata";
import { attentionConfig, maxContextLength } from "./model-shape";
import {
  architectureProblems,
  fitProblem,
  formatProblem,
  type ModelFacts,
  missingFileProblem,
  modalityProblem,
  type Problem,
  taskProblems,
  unknownSizeProblem,
} from "./problems";
import { DEFAULT_USABLE_FRACTION, estimateVram, fitsOn, type GpuSelection, type GpuType, suggestGpus, usableGiB, type VramEstimate } from "./vram";
import { chooseGgufFile, sizeWeights } from "./weights";

export type { Problem, ProblemCode } from "./problems";

export interface AssessmentInput {
  repo: string;
  runtime: RuntimeSupport;
  /** What the instance will serve; default the model's own (chat for instruct models, embeddings for embedders). */
  task?: Task;
  gpus: GpuSelection;
  /** Tokens of context to hold; default the model's maximum, as vLLM does. Capped at the maximum. */
  contextLength?: number;
  /** The catalog's GPU types, for "pick 2×L40S" remediations. */
  gpuTypes?: GpuType[];
  /** For GGUF repos: the file to serve; default the Q4_K_M one (or the closest there is). */
  file?: string;
  /** The other runtimes on offer, so a remediation can name the one that would work. */
  alternatives?: RuntimeSupport[];
  kvCacheDtypeBytes?: number;
  usableFraction?: number;
}

export interface ModelAssessment {
  ok: boolean;
  repo: string;
  /** Where the metadata came from; null when there was none (not found, gated, unreachable). */
  source: "hub" | "snapshot" | null;
  architecture: string | null;
  /** What the model can serve. */
  tasks: Task[];
  /** The task assessed: the one asked for, else the model's first. */
  task: Task | null;
  modalities: Modality[];
  parameterCount: number | null;
  dtype: string | null;
  format: WeightFormat | null;
  /** The GGUF file that would be served. */
  file: string | null;
  contextLength: number | null;
  maxContextLength: number | null;
  vram: VramEstimate | null;
  /** Total VRAM of the GPUs asked for, and the part of it a model may use. */
  availableGiB: number;
  usableGiB: number;
  /** The smallest GPU configurations the model fits on (from `gpuTypes`). */
  fitsOn: GpuSelection[];
  problems: Problem[];
  warnings: string[];
}

/** Used when neither the model nor the request says how much context to hold. */
const FALLBACK_CONTEXT = 4096;

/**
 * Judges a repo against a runtime and a GPU selection. Pure: every fact comes
 * from `meta`. Checks run in the order a person would fix them (format,
 * architecture, task, modality, size) and all are reported at once.
 */
export function assessModel(meta: ModelMetadata, input: AssessmentInput): ModelAssessment {
  const { info, config } = meta;
  const name = meta.repo.split("/")[1]!;
  const problems: Problem[] = [];
  const warnings = [...meta.warnings];

  // What the runtime would load: the first published format it takes (else the repo's own, to size it anyway).
  const formats = detectFormats(info);
  const format = formats.find((f) => input.runtime.formats.includes(f)) ?? null;
  if (!format) problems.push(formatProblem(meta, name, formats, input));
  const served = format ?? formats[0] ?? null;
  const gguf = served === "gguf" ? chooseGgufFile(info, input.file) : undefined;
  if (served === "gguf" && !gguf && input.file) {
    problems.push(
      missingFileProblem(
        meta.repo,
        input.file,
        info.siblings.map((s) => s.rfilename).filter((f) => f.endsWith(".gguf")),
      ),
    );
  }

  const facts: ModelFacts = {
    architecture: served === "gguf" ? ggufArchitecture(meta) : (architectureOf(info, config) ?? null),
    formats,
    tasks: detectTasks(info, config),
    modalities: detectModalities(info, config),
  };
  const task = input.task ?? facts.tasks[0] ?? null;
  // A GGUF-only repo on a safetensors runtime would fail the architecture check too; the format problem says it all.
  const architectureIssues = format ? architectureProblems(name, info.pipeline_tag, facts, task, input) : [];
  problems.push(...architectureIssues);
  problems.push(...taskProblems(name, info.pipeline_tag, task, facts, architectureIssues.length > 0, input));
  const missing = facts.modalities.filter((m) => !input.runtime.modalities.includes(m));
  if (missing.length > 0) problems.push(modalityProblem(name, missing, facts, task, input));

  const size = sizeWeights(info, config, served, gguf);
  warnings.push(...size.warnings);
  const maxContext =
    (served === "gguf" ? info.gguf?.context_length : undefined) ?? (config ? maxContextLength(config) : undefined) ?? info.gguf?.context_length ?? null;
  const contextLength = chooseContext(input.contextLength, maxContext, warnings);
  const attention = config ? attentionConfig(config) : undefined;
  if (attention === undefined) warnings.push(`The KV cache is not counted: ${meta.configFrom ?? meta.repo} has no config.json to size it from.`);

  const usableFraction = input.usableFraction ?? DEFAULT_USABLE_FRACTION;
  let vram: VramEstimate | null = null;
  let fitting: GpuSelection[] = [];
  if (size.bytes === null) problems.push(unknownSizeProblem(name));
  else {
    vram = estimateVram({
      parameterCount: size.parameterCount ?? 0,
      dtype: size.servingDtype ?? "F32", // not read: the bytes are known
      weightBytes: size.bytes,
      architecture: attention ?? null,
      contextLength,
      kvCacheDtypeBytes: input.kvCacheDtypeBytes,
    });
    fitting = input.gpuTypes ? suggestGpus(vram.totalGiB, input.gpuTypes, { usableFraction }) : [];
    if (!fitsOn(vram.totalGiB, input.gpus, usableFraction)) problems.push(fitProblem(name, vram, contextLength, attention ?? null, fitting, input));
  }
  const heads = attention?.num_attention_heads;
  if (heads && input.gpus.count > 1 && heads % input.gpus.count !== 0) {
    warnings.push(`${name} has ${heads} attention heads, which do not split evenly over ${input.gpus.count} GPUs; tensor parallelism needs them to.`);
  }

  return {
    ok: problems.length === 0,
    repo: meta.repo,
    source: meta.source,
    architecture: facts.architecture,
    tasks: facts.tasks,
    task,
    modalities: facts.modalities,
    parameterCount: size.parameterCount,
    dtype: size.dtype,
    format: served,
    file: gguf?.file ?? null,
    contextLength,
    maxContextLength: maxContext,
    vram,
    availableGiB: input.gpus.vramGiB * input.gpus.count,
    usableGiB: usableGiB(input.gpus, usableFraction),
    fitsOn: fitting,
    problems,
    warnings,
  };
}

/** GGUF's `general.architecture`: from the hub's digest, else from the header the config was read from. */
function ggufArchitecture(meta: ModelMetadata): string | null {
  const fromHeader = meta.configFrom?.endsWith(".gguf") ? meta.config?.model_type : undefined;
  const value = meta.info.gguf?.architecture ?? fromHeader;
  return typeof value === "string" ? value : null;
}

function chooseContext(requested: number | undefined, max: number | null, warnings: string[]): number {
  if (max === null) {
    if (requested === undefined) warnings.push(`The model does not say its context length; assuming ${FALLBACK_CONTEXT} tokens.`);
    return requested ?? FALLBACK_CONTEXT;
  }
  if (requested !== undefined && requested > max) {
    warnings.push(
      `A context of ${requested.toLocaleString("en-US")} tokens is more than the model supports; using its maximum, ${max.toLocaleString("en-US")}.`,
    );
    return max;
  }
  return requested ?? max;
}

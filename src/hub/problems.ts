import { baseModelOf, describePipeline, type Modality, type RuntimeSupport, type Task, type WeightFormat } from "./capabilities";
import type { ModelMetadata } from "./metadata";
import {
  type AttentionConfig,
  DEFAULT_USABLE_FRACTION,
  formatGiB,
  formatGpuChoices,
  formatGpus,
  GiB,
  type GpuSelection,
  kvCacheBytesPerToken,
  usableGiB,
  type VramEstimate,
} from "./vram";

/**
 * The problems an assessment can report, each with a message saying what is
 * wrong in the user's terms and a remediation naming what to pick instead
 * (another runtime from `alternatives`, GPUs from the catalog's types, a
 * shorter context, the original repo of a quantized one).
 */
export type ProblemCode =
  | "not_found"
  | "gated"
  | "unreachable"
  | "unsupported_architecture"
  | "task_mismatch"
  | "modality_mismatch"
  | "format_mismatch"
  | "does_not_fit"
  | "unknown_size";

export interface Problem {
  code: ProblemCode;
  message: string;
  remediation: string;
}

/** What the checks need to know about the request. */
export interface ProblemContext {
  runtime: RuntimeSupport;
  alternatives?: RuntimeSupport[];
  gpus: GpuSelection;
  kvCacheDtypeBytes?: number;
  usableFraction?: number;
}

export interface ModelFacts {
  architecture: string | null;
  formats: WeightFormat[];
  tasks: Task[];
  modalities: Modality[];
}

/** Whether another runtime could serve this model for this task (size aside). */
function servesModel(rt: RuntimeSupport, facts: ModelFacts, task: Task | null): boolean {
  const format = facts.formats.find((f) => rt.formats.includes(f));
  return (
    format !== undefined &&
    (task === null || rt.tasks.includes(task)) &&
    facts.modalities.every((m) => rt.modalities.includes(m)) &&
    (facts.architecture === null || rt.architectures.includes("*") || rt.architectures.includes(facts.architecture) || format === "gguf")
  );
}

/** "the TEI runtime, which …" for the first alternative that would work. */
function pickRuntime(alternatives: RuntimeSupport[] | undefined, facts: ModelFacts, task: Task | null, phrase: (name: string) => string): string | undefined {
  const match = alternatives?.find((rt) => servesModel(rt, facts, task));
  return match ? phrase(match.name) : undefined;
}

export function formatProblem(meta: ModelMetadata, name: string, available: WeightFormat[], input: ProblemContext): Problem {
  const { runtime } = input;
  const has = available.length ? `publishes ${available.map(formatName).join(" and ")} weights` : "publishes no weights a runtime can load";
  const options: string[] = [];
  const other = input.alternatives?.find((rt) => available.some((f) => rt.formats.includes(f)));
  if (other)
    options.push(
      `pick the ${other.name} runtime, which loads ${available
        .filter((f) => other.formats.includes(f))
        .map(formatName)
        .join(" and ")}`,
    );
  const base = baseModelOf(meta.info);
  if (available.includes("gguf") && base) options.push(`launch ${base}, the original repo, on ${runtime.name}`);
  if (options.length === 0)
    options.push(
      `pick a runtime that loads ${available.map(formatName).join(" or ") || "its weights"}, or a repo with ${runtime.formats.map(formatName).join(" or ")} weights`,
    );
  return {
    code: "format_mismatch",
    message: `${name} ${has}; ${runtime.name} loads ${runtime.formats.map(formatName).join(" and ")}.`,
    remediation: options.join(", or "),
  };
}

export function architectureProblems(name: string, pipeline: string | undefined, facts: ModelFacts, task: Task | null, input: ProblemContext): Problem[] {
  const { runtime } = input;
  const { architecture } = facts;
  // "*": a runtime that serves any architecture (the reference runtime).
  if (runtime.architectures.includes("*") || (architecture && runtime.architectures.includes(architecture))) return [];
  if (!architecture) {
    return [
      {
        code: "unsupported_architecture",
        message: `${name} does not say its architecture (no config.json architectures), so ${runtime.name} cannot be checked to load it.`,
        remediation: `choose a repo with a config.json, built on an architecture ${runtime.name} supports (${examples(runtime.architectures)})`,
      },
    ];
  }
  if (facts.tasks.length === 0) {
    return [
      {
        code: "unsupported_architecture",
        message: `${name} is ${architecture} (${describePipeline(pipeline)}); ${runtime.name} serves ${describeTasks(runtime.tasks)}.`,
        remediation: `choose a model for ${describeTasks(runtime.tasks)}; ${describePipeline(pipeline)} models are not served here`,
      },
    ];
  }
  const rescuer = pickRuntime(input.alternatives, facts, task, (rt) => `the ${rt} runtime, which supports ${architecture}`);
  return [
    {
      code: "unsupported_architecture",
      message: `${runtime.name} does not support ${architecture}, the architecture of ${name}.`,
      remediation: rescuer ? `pick ${rescuer}` : `choose a model built on an architecture ${runtime.name} supports (${examples(runtime.architectures)})`,
    },
  ];
}

export function taskProblems(
  name: string,
  pipeline: string | undefined,
  task: Task | null,
  facts: ModelFacts,
  architectureReported: boolean,
  input: ProblemContext,
): Problem[] {
  const { runtime } = input;
  const { tasks } = facts;
  const problems: Problem[] = [];
  // A model for none of our tasks (speech, image generation) never passes, whatever the runtime claims to load.
  if (tasks.length === 0 && !architectureReported) {
    problems.push({
      code: "task_mismatch",
      message: `${name} is ${withArticle(describePipeline(pipeline))} model; it cannot serve ${task ? describeTask(task) : "chat, completion or embeddings"}.`,
      remediation: `choose a model for ${task ? describeTask(task) : "text generation or embeddings"}`,
    });
  }
  if (!task) return problems;
  if (tasks.length > 0 && !tasks.includes(task)) {
    const own = tasks[0]!;
    const what = own === "embeddings" ? "an embedding model" : task === "chat" ? "a model without a chat template" : "a text generation model";
    problems.push({
      code: "task_mismatch",
      message: `${name} is ${what}; it cannot serve ${describeTask(task)}.`,
      remediation:
        own === "embeddings"
          ? `launch it for embeddings, or choose a ${describeTask(task)} model`
          : task === "chat"
            ? "launch it for completion, or choose the instruct (chat) version of the model"
            : `launch it for ${describeTask(own)}, or choose an embedding model`,
    });
  }
  if (!runtime.tasks.includes(task)) {
    const rescuer = pickRuntime(input.alternatives, facts, task, (rt) => `the ${rt} runtime for ${describeTask(task)}`);
    problems.push({
      code: "task_mismatch",
      message: `${runtime.name} does not serve ${describeTask(task)}; it serves ${describeTasks(runtime.tasks)}.`,
      remediation: rescuer ? `pick ${rescuer}` : `pick a runtime that serves ${describeTask(task)}`,
    });
  }
  return problems;
}

export function missingFileProblem(repo: string, file: string, ggufFiles: string[]): Problem {
  return {
    code: "not_found",
    message: `${repo} has no file '${file}'.`,
    remediation: ggufFiles.length ? `pick one of its GGUF files: ${ggufFiles.join(", ")}` : "pick a repo that publishes GGUF files",
  };
}

export function modalityProblem(name: string, missing: Modality[], facts: ModelFacts, task: Task | null, input: ProblemContext): Problem {
  const { runtime } = input;
  const what = missing.join(" and ");
  const rescuer = pickRuntime(input.alternatives, facts, task, (rt) => `the ${rt} runtime, which accepts ${what} input`);
  return {
    code: "modality_mismatch",
    message: `${name} takes ${what} input as well as text; ${runtime.name} accepts ${runtime.modalities.join(" and ")} only.`,
    remediation: rescuer ? `pick ${rescuer}` : `pick a runtime that accepts ${what} input, or a text-only model`,
  };
}

export function unknownSizeProblem(name: string): Problem {
  return {
    code: "unknown_size",
    message: `Could not tell how large ${name} is: it has no safetensors metadata, no config.json to estimate from, and no GGUF size.`,
    remediation: "choose a repo that publishes safetensors weights (the hub reads their size) or GGUF files",
  };
}

export function fitProblem(
  name: string,
  vram: VramEstimate,
  contextLength: number,
  attention: AttentionConfig | null,
  fitting: GpuSelection[],
  input: ProblemContext,
): Problem {
  const { gpus } = input;
  const usable = usableGiB(gpus, input.usableFraction ?? DEFAULT_USABLE_FRACTION);
  const options: string[] = [];
  if (fitting.length) options.push(`pick ${formatGpuChoices(fitting.slice(0, 2))}`);
  // How much context the chosen GPUs could hold, if the weights fit at all.
  if (attention) {
    const perToken = kvCacheBytesPerToken(attention, input.kvCacheDtypeBytes ?? 2) / GiB;
    const fitsTokens = Math.floor((usable - vram.weightsGiB - vram.overheadGiB) / perToken / 1024) * 1024;
    if (fitsTokens >= 1024 && fitsTokens < contextLength) options.push(`lower the context length to ${tokens(fitsTokens)} tokens`);
  }
  if (options.length === 0)
    options.push(`choose GPUs with at least ${formatGiB(vram.totalGiB / (input.usableFraction ?? DEFAULT_USABLE_FRACTION))} of VRAM in total`);
  const parts = `weights ${formatGiB(vram.weightsGiB)}, KV cache ${formatGiB(vram.kvCacheGiB)} for ${tokens(contextLength)} tokens, overhead ${formatGiB(vram.overheadGiB)}`;
  return {
    code: "does_not_fit",
    message: `${name} needs ${formatGiB(vram.totalGiB)} of VRAM (${parts}); ${formatGpus(gpus)} gives ${usable.toFixed(1)} GiB usable of ${gpus.vramGiB * gpus.count} GiB.`,
    remediation: options.join(", or "),
  };
}

function formatName(format: WeightFormat): string {
  return format === "gguf" ? "GGUF" : format === "pytorch" ? "PyTorch .bin" : "safetensors";
}

function describeTask(task: Task): string {
  return task === "embeddings" ? "embeddings" : task;
}

/** chat + completion read as "text generation" to people. */
function describeTasks(tasks: Task[]): string {
  const words: string[] = [];
  if (tasks.includes("chat") || tasks.includes("completion")) words.push("text generation");
  if (tasks.includes("embeddings")) words.push("embeddings");
  return words.join(" and ") || "nothing";
}

function withArticle(phrase: string): string {
  return `${/^[aeiou]/i.test(phrase) ? "an" : "a"} ${phrase}`;
}

function examples(architectures: string[]): string {
  return architectures.slice(0, 3).join(", ") + (architectures.length > 3 ? ", …" : "");
}

function tokens(n: number): string {
  return n.toLocaleString("en-US");
}

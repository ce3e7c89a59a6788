import { type AssessmentInput, assessModel, type ModelAssessment, type Problem } from "./assess";
import type { HubClient } from "./client";
import { HubError } from "./errors";
import { loadModelMetadata } from "./metadata";
import { parseRepoId } from "./repo-id";
import { bundledSnapshots, type SnapshotStore } from "./snapshots";
import { DEFAULT_USABLE_FRACTION, usableGiB } from "./vram";

export type { AssessmentInput, ModelAssessment, Problem, ProblemCode } from "./assess";

export interface ValidateOptions {
  /** Metadata to fall back on when the hub cannot be reached; null turns the fallback off. Default: the bundled snapshots. */
  snapshots?: SnapshotStore | null;
  /**
   * Asked with the first assessment (its VRAM estimate does not depend on the GPUs): GPUs to judge the
   * model on instead, such as a default picked from that estimate, or null to keep the first. The
   * metadata is read once either way.
   */
  regpu?: (first: ModelAssessment) => Promise<AssessmentInput["gpus"] | null>;
}

/**
 * The launch's first step: reads the repo from the hub (or its bundled
 * snapshot when the hub is down) and judges it against the runtime and GPUs.
 * Never throws for what the hub says: a missing, gated or unreachable repo is
 * a problem in the assessment. A malformed repo id is an InvalidInputError.
 */
export async function validateModel(hub: HubClient, input: AssessmentInput, options: ValidateOptions = {}): Promise<ModelAssessment> {
  const repo = parseRepoId(input.repo);
  const snapshots = options.snapshots === undefined ? bundledSnapshots : options.snapshots;
  try {
    const meta = await loadModelMetadata(hub, repo, snapshots, { ggufFile: input.file });
    const first = assessModel(meta, { ...input, repo });
    const gpus = options.regpu ? await options.regpu(first) : null;
    return gpus ? assessModel(meta, { ...input, repo, gpus }) : first;
  } catch (error) {
    if (!(error instanceof HubError)) throw error;
    const first = unassessed(repo, input, hubProblem(error, repo, hub.hasToken));
    const gpus = options.regpu ? await options.regpu(first) : null;
    return gpus ? unassessed(repo, { ...input, gpus }, hubProblem(error, repo, hub.hasToken)) : first;
  }
}

function hubProblem(error: HubError, repo: string, hasToken: boolean): Problem {
  switch (error.code) {
    case "not_found":
      return {
        code: "not_found",
        message: error.message,
        remediation: `check the repo id on huggingface.co (it is 'organization/name', e.g. 'Qwen/Qwen2.5-0.5B-Instruct'); a private repo needs a token that can read it`,
      };
    case "gated":
      return {
        code: "gated",
        message: error.message,
        remediation: hasToken
          ? `request access on https://huggingface.co/${repo} with the account the token belongs to, then try again`
          : `this repo is gated: request access on https://huggingface.co/${repo}, then add a Hugging Face token with access in Account → Hugging Face`,
      };
    case "unreachable":
    case "bad_response":
      // A hub that answers nonsense is, for the user, a hub that cannot be used right now.
      return {
        code: "unreachable",
        message: `${error.message} There is no bundled snapshot of ${repo} to fall back on.`,
        remediation: "check this machine's internet access (or the HF_ENDPOINT setting) and try again",
      };
  }
}

function unassessed(repo: string, input: AssessmentInput, problem: Problem): ModelAssessment {
  return {
    ok: false,
    repo,
    source: null,
    architecture: null,
    tasks: [],
    task: input.task ?? null,
    modalities: [],
    parameterCount: null,
    dtype: null,
    format: null,
    file: null,
    contextLength: null,
    maxContextLength: null,
    vram: null,
    availableGiB: input.gpus.vramGiB * input.gpus.count,
    usableGiB: usableGiB(input.gpus, input.usableFraction ?? DEFAULT_USABLE_FRACTION),
    fitsOn: [],
    problems: [problem],
    warnings: [],
  };
}

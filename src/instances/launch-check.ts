import type { Executor } from "../../db/client";
import { readCatalog } from "../catalog/queries";
import { InvalidInputError, NotPlaceableError } from "../errors";
import type { ModelAssessment } from "../hub/validate";
import { catalogRates, type ModelClass } from "../pricing/snapshot";
import { type GpuPick, type Placeability, placeability } from "../scheduler/placeability";
import { assess, type LaunchDeps, launchTarget, modelClassOf, placementConstraintsOf } from "./launch";
import type { LaunchCheckInput } from "./schemas";

export interface LaunchCheck {
  /** The model against the runtime and the GPUs it would get; null for a plain pod. */
  assessment: ModelAssessment | null;
  modelClass: ModelClass;
  /** Whether it can be placed now, where and at what price, the one reason if not, and the GPU picked when none was chosen. */
  placement: Placeability;
}

/**
 * The check before a launch (the Launch page, `--validate-only`): the model
 * against the runtime, and whether the scheduler could place it now with the
 * live offers and the prices the launch would lock. With no GPU type chosen it
 * picks the cheapest free one the model fits on, and judges the model on it.
 */
export async function checkLaunch(db: Executor, deps: Pick<LaunchDeps, "hub" | "offers">, input: LaunchCheckInput): Promise<LaunchCheck> {
  const catalog = await readCatalog(db);
  const { runtime } = launchTarget(catalog, input);
  const offers = await deps.offers();
  const constraints = placementConstraintsOf(input);
  const judge = async (modelClass: ModelClass, requiredGib: number | null) =>
    placeability({ offers, constraints, rates: await catalogRates(db, modelClass), requiredGib });

  if (!runtime) return { assessment: null, modelClass: "pod", placement: await judge("pod", null) };
  if (!input.hfRepo) throw new InvalidInputError("Enter the Hugging Face repo to serve, such as Qwen/Qwen2.5-0.5B-Instruct.", "hfRepo");

  let placement: Placeability | null = null;
  const assessment = await assess(catalog, deps, runtime, input, async (first) => {
    if (input.gpuPreferences.length > 0) return null;
    // The estimate does not depend on the GPUs: pick from it, then judge the model on the pick.
    placement = await judge(modelClassOf(first), first.vram?.totalGiB ?? null);
    const gpu = catalog.gpus.find((g) => g.id === placement?.picked?.gpuType);
    return gpu ? { name: gpu.id, vramGiB: gpu.vramGib, count: input.gpuCount } : null;
  });
  const modelClass = modelClassOf(assessment);
  return { assessment, modelClass, placement: placement ?? (await judge(modelClass, assessment.vram?.totalGiB ?? null)) };
}

/**
 * A launch with no GPU type chosen gets the check's pick, with the model already judged on it (so the launch does
 * not read the hub twice), or is refused with the check's one reason.
 */
export async function pickGpuForLaunch(
  db: Executor,
  deps: Pick<LaunchDeps, "hub" | "offers">,
  input: LaunchCheckInput,
): Promise<{ pick: GpuPick; assessment: ModelAssessment | null }> {
  const { placement, assessment } = await checkLaunch(db, deps, input);
  if (!placement.picked) throw new NotPlaceableError(`${placement.message ?? placement.reason} Nothing was launched.`, placement.field ?? "gpuPreferences");
  return { pick: placement.picked, assessment };
}

import { instanceEvents, instances, type RuntimeConfig } from "../../db/schema";
import { recordAudit } from "../audit/record";
import { assertLaunchFunded, balanceSummary } from "../billing/grace";
import { type Catalog, type Runtime, readCatalog } from "../catalog/queries";
import { type AccountContext, withTransaction } from "../context";
import { ConflictError, InvalidInputError, NotPlaceableError } from "../errors";
import type { HubClient } from "../hub/client";
import { type ModelAssessment, type ValidateOptions, validateModel } from "../hub/validate";
import { newId } from "../ids";
import type { JobQueue } from "../jobs/queue";
import { isUniqueViolation } from "../platform/pg-errors";
import { catalogRates, lockPricing, maxHourlyRate, modelClassFor } from "../pricing/snapshot";
import type { Offer } from "../scheduler/offers";
import { type PlaceabilityConstraints, placeability } from "../scheduler/placeability";
import { assertWithinBudgets } from "../spend/budgets";
import { pickGpuForLaunch } from "./launch-check";
import { claimLaunchKey, type LaunchKey, launchedWithKey } from "./launch-keys";
import { beginRun } from "./runs";
import type { LaunchInput } from "./schemas";
import { servingNameFrom } from "./serving-name";
import { releasedNameCause, servingNameForLaunch } from "./serving-names";
import type { Instance } from "./transition";

export interface LaunchDeps {
  jobs: JobQueue;
  /** A hub client for this launch (with the user's token for a gated repo, if one was given). */
  hub: (token?: string) => HubClient;
  graceWindowHours: number;
  minRunwayHours: number;
  /** The providers' capacity now (src/providers/offers.ts): a launch nothing can host is refused. */
  offers: () => Promise<Offer[]>;
}

/** A model that failed validation: every problem with its remediation, and the assessment for the UI. */
export class ModelValidationError extends InvalidInputError {
  constructor(readonly assessment: ModelAssessment) {
    super(assessment.problems.map((p) => `${p.message} Remediation: ${p.remediation}.`).join(" "), "hfRepo");
  }
}

/**
 * The one launch verb (web, tRPC, CLI): validate the model against the
 * runtime and GPUs, lock the price, refuse what no offer can host now and what
 * billing refuses, then create the pending instance, its first run and the
 * provisioning job together.
 */
export async function launchInstance(ctx: AccountContext, deps: LaunchDeps, chosen: LaunchInput): Promise<Instance> {
  return (await launch(ctx, deps, chosen)).instance;
}

/**
 * A launch a client may retry (REST's `Idempotency-Key`): the first attempt with a key launches; every later
 * one with the same key and launch answers that instance (`replayed`), whether the first finished or raced it.
 */
export async function launchOnce(
  ctx: AccountContext,
  deps: LaunchDeps,
  chosen: LaunchInput,
  key: LaunchKey,
): Promise<{ instance: Instance; replayed: boolean }> {
  // Most retries come after the first answered: found here, without checking the model or capacity again.
  const earlier = await launchedWithKey(ctx.db, ctx.accountId, key);
  if (earlier) return { instance: earlier, replayed: true };
  return launch(ctx, deps, chosen, key);
}

async function launch(ctx: AccountContext, deps: LaunchDeps, chosen: LaunchInput, key?: LaunchKey): Promise<{ instance: Instance; replayed: boolean }> {
  const checked = chosen.gpuPreferences.length === 0 ? await pickGpuForLaunch(ctx.db, deps, chosen) : null;
  const picked = checked?.pick ?? null;
  const input = picked ? { ...chosen, gpuPreferences: [picked.gpuType] } : chosen;
  const catalog = await readCatalog(ctx.db);
  const plan = await planLaunch(catalog, deps, input, checked?.assessment ?? undefined);

  const pricingSnapshot = await lockPricing(ctx.db, {
    modelClass: plan.modelClass,
    tier: input.tier,
    gpuPreferences: input.gpuPreferences,
    gpuCount: input.gpuCount,
  });
  await assertPlaceable(ctx, deps, input, plan);
  const summary = await balanceSummary(ctx.db, ctx.accountId, deps.graceWindowHours);
  assertLaunchFunded(summary, { hourlyRateCents: maxHourlyRate(pricingSnapshot), minRunwayHours: deps.minRunwayHours });
  await assertWithinBudgets(ctx.db, ctx.accountId);

  const instanceId = newId("instance");
  const runId = newId("run");
  try {
    return await withTransaction(ctx.db, async (tx) => {
      // First, so a launch racing this one with the same key waits here and then answers this one's instance.
      if (key && !(await claimLaunchKey(tx, ctx.accountId, key, instanceId))) {
        const raced = await launchedWithKey(tx, ctx.accountId, key);
        if (!raced) throw new Error(`launch key ${key.key} is held by no instance`);
        return { instance: raced, replayed: true };
      }
      const serving = plan.serving ? await servingNameForLaunch(tx, ctx.accountId, input.servingName, plan.defaultServingName) : null;
      const servingName = serving?.name ?? null;
      const [instance] = await tx
        .insert(instances)
        .values({
          id: instanceId,
          accountId: ctx.accountId,
          name: input.name || null,
          description: input.description || null,
          servingName,
          state: "pending",
          hfRepo: plan.serving ? input.hfRepo! : null,
          modelFile: plan.assessment?.file ?? null,
          task: plan.task,
          modelClass: plan.modelClass,
          gpuPreferences: input.gpuPreferences,
          gpuCount: input.gpuCount,
          minVramGib: input.minVramGib ?? null,
          tier: input.tier,
          allowedRegions: input.allowedRegions,
          maxPriceCentsPerHour: input.maxPriceCentsPerHour ?? null,
          placementMode: input.placementMode,
          contextLength: plan.runtimeConfig.contextLength,
          pricingSnapshot,
          runtimeConfig: plan.runtimeConfig,
          modelAssessment: plan.assessment,
          currentRunId: runId,
          progress: { phase: "queued", progress: null, message: "Waiting for placement", at: new Date().toISOString() },
        })
        .returning();
      const cause = [releasedNameCause(serving?.released ?? null), picked && `on ${picked.gpuType} (picked: ${picked.why})`].filter(Boolean).join(", ");
      await tx.insert(instanceEvents).values({ instanceId, fromState: null, toState: "pending", cause });
      await beginRun(tx, instanceId, runId);
      await deps.jobs.send("instances.provision", { instanceId, runId }, { tx, singletonKey: `provision:${runId}` });
      const { name, hfRepo, gpuPreferences, gpuCount, tier, placementMode } = instance!;
      await recordAudit(
        { ...ctx, db: tx },
        {
          kind: "instance.launched",
          subjectId: instanceId,
          changes: { after: { name, servingName, hfRepo, gpuPreferences, gpuCount, tier, placementMode, state: "pending" } },
        },
      );
      return { instance: instance!, replayed: false };
    });
  } catch (error) {
    if (isUniqueViolation(error, "instances_account_serving_name_key")) {
      throw new ConflictError(`The serving name '${input.servingName}' is already used by another instance of this account.`, "servingName");
    }
    throw error;
  }
}

/**
 * Refuses a launch no offer can host now, as the scheduler would judge it at once, with the one reason and
 * what could be placed instead. Capacity can still go between here and provisioning: that failure is worded
 * the same way (placementFailure).
 */
async function assertPlaceable(ctx: AccountContext, deps: LaunchDeps, input: LaunchInput, plan: LaunchPlan) {
  const [offers, rates] = await Promise.all([deps.offers(), catalogRates(ctx.db, plan.modelClass)]);
  const result = placeability({ offers, constraints: placementConstraintsOf(input), rates, requiredGib: plan.assessment?.vram?.totalGiB ?? null });
  if (!result.placeable) throw new NotPlaceableError(`${result.message} Nothing was launched.`, result.field ?? "gpuPreferences");
}

/** A launch's placement rules as the scheduler reads them; a new instance is never pinned to a provider yet. */
export function placementConstraintsOf(
  input: Pick<LaunchInput, "gpuPreferences" | "gpuCount" | "minVramGib" | "allowedRegions" | "tier" | "maxPriceCentsPerHour">,
): PlaceabilityConstraints {
  return {
    gpuPreferences: input.gpuPreferences,
    gpuCount: input.gpuCount,
    minVramGib: input.minVramGib ?? null,
    allowedRegions: input.allowedRegions,
    tier: input.tier,
    maxPriceCentsPerHour: input.maxPriceCentsPerHour ?? null,
    pinnedProviderId: null,
  };
}

interface LaunchPlan {
  serving: boolean;
  task: "chat" | "embeddings" | null;
  modelClass: ReturnType<typeof modelClassFor>;
  runtimeConfig: RuntimeConfig;
  assessment: ModelAssessment | null;
  defaultServingName: string;
}

/** Everything decided before anything is written: catalog lookups, image verification, model validation. */
export async function planLaunch(catalog: Catalog, deps: Pick<LaunchDeps, "hub">, input: LaunchInput, assessed?: ModelAssessment): Promise<LaunchPlan> {
  const { template, runtime } = launchTarget(catalog, input);
  for (const gpu of input.gpuPreferences) {
    if (!catalog.gpus.some((g) => g.id === gpu)) throw new InvalidInputError(`There is no GPU type '${gpu}' in the catalog.`, "gpuPreferences");
  }

  const image = template?.image ?? runtime!.image;
  if (input.image !== undefined && input.image !== image) {
    const verified = [...catalog.runtimes.map((r) => r.image), ...catalog.templates.map((t) => t.image)];
    throw new InvalidInputError(
      verified.includes(input.image)
        ? "That verified image belongs to another runtime or template: choose that one instead."
        : "Only verified runtime images can launch: catalog images pinned by digest (name@sha256:…). Custom images are not supported yet.",
      "image",
    );
  }

  if (!runtime) {
    return {
      serving: false,
      task: null,
      modelClass: "pod",
      assessment: null,
      defaultServingName: "",
      runtimeConfig: {
        runtimeId: null,
        templateId: template!.id,
        image,
        command: [],
        localBinary: null,
        port: null,
        healthPath: null,
        ports: template!.ports,
        contextLength: null,
      },
    };
  }

  if (!input.hfRepo) throw new InvalidInputError("Enter the Hugging Face repo to serve, such as Qwen/Qwen2.5-0.5B-Instruct.", "hfRepo");
  // Judged already when the check picked the GPU (on that GPU, as `assess` would judge it now).
  const assessment = assessed ?? (await assess(catalog, deps, runtime, input));
  if (!assessment.ok) throw new ModelValidationError(assessment);
  const task = assessment.task === "embeddings" ? "embeddings" : "chat";
  return {
    serving: true,
    task,
    modelClass: modelClassOf(assessment),
    assessment,
    defaultServingName: servingNameFrom(input.hfRepo),
    runtimeConfig: {
      runtimeId: runtime.id,
      templateId: template?.id ?? null,
      image,
      command: runtime.command,
      localBinary: runtime.localBinary || null,
      port: runtime.port,
      healthPath: runtime.healthPath,
      ports: template?.ports ?? [{ port: runtime.port, name: "openai" }],
      contextLength: assessment.contextLength ?? runtime.defaultContextLength,
    },
  };
}

/** The template (if any) and the runtime that would serve its model (null for a plain pod), checked against the catalog. */
export function launchTarget(
  catalog: Catalog,
  input: Pick<LaunchInput, "templateId" | "runtimeId">,
): { template?: Catalog["templates"][number]; runtime?: Runtime } {
  const template = input.templateId ? catalog.templates.find((t) => t.id === input.templateId) : undefined;
  if (input.templateId && !template) throw new InvalidInputError(`There is no template '${input.templateId}'.`, "templateId");
  const runtimeId = input.runtimeId ?? template?.runtimeId ?? null;
  const runtime = runtimeId ? catalog.runtimes.find((r) => r.id === runtimeId) : undefined;
  if (runtimeId && !runtime) throw new InvalidInputError(`There is no runtime '${runtimeId}'.`, "runtimeId");
  return { template, runtime };
}

/** The price class of a checked model: an embedder, or a chat model by its size. */
export function modelClassOf(assessment: Pick<ModelAssessment, "task" | "parameterCount">) {
  return modelClassFor({ task: assessment.task === "embeddings" ? "embeddings" : "chat", parameterCount: assessment.parameterCount });
}

/**
 * The model checked against the runtime and the smallest GPU among the preferences, so any placement fits.
 * With no preferences it is first sized on the largest GPU, and `regpu` may name the GPUs to judge it on.
 */
export async function assess(
  catalog: Catalog,
  deps: Pick<LaunchDeps, "hub">,
  runtime: Runtime,
  input: Pick<LaunchInput, "hfRepo" | "gpuPreferences" | "gpuCount" | "task" | "contextLength" | "modelFile" | "hfToken">,
  regpu?: ValidateOptions["regpu"],
) {
  const preferred = input.gpuPreferences.length ? catalog.gpus.filter((g) => input.gpuPreferences.includes(g.id)) : catalog.gpus;
  const unknown = input.gpuPreferences.find((gpu) => !preferred.some((g) => g.id === gpu));
  if (unknown || preferred.length === 0) throw new InvalidInputError(`There is no GPU type '${unknown ?? ""}' in the catalog.`, "gpuPreferences");
  const byVram = [...preferred].sort((a, b) => a.vramGib - b.vramGib);
  // The smallest preference, so any placement fits; with none, the largest GPU, only to size the model.
  const judged = input.gpuPreferences.length ? byVram[0]! : byVram.at(-1)!;
  const support = (r: Runtime) => ({
    name: r.name,
    // "*" (the reference runtime) serves any architecture.
    architectures: r.architectures,
    tasks: r.tasks,
    modalities: r.modalities,
    formats: r.formats,
  });
  return validateModel(
    deps.hub(input.hfToken),
    {
      repo: input.hfRepo!,
      runtime: support(runtime),
      task: input.task,
      gpus: { name: judged.id, vramGiB: judged.vramGib, count: input.gpuCount },
      contextLength: input.contextLength,
      gpuTypes: catalog.gpus.map((g) => ({ name: g.id, vramGiB: g.vramGib })),
      file: input.modelFile,
      alternatives: catalog.runtimes.filter((r) => r.id !== runtime.id && r.id !== "reference").map(support),
    },
    { regpu },
  );
}

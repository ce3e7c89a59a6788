import type { Client, Outputs } from "../../client";
import type { CliContext } from "../../context";
import { CliError, toCliError } from "../../errors";
import { readSecretFromStdin } from "../../input";
import { renderFields } from "../../output";
import { type LaunchFlags, type LaunchRequest, launchRequest } from "./launch-options";
import {
  type Assessment,
  gpuLabel,
  type LaunchCheck,
  type Placement,
  pickedLabel,
  placementFields,
  placementLine,
  renderAssessment,
  renderProblems,
  renderRunning,
} from "./render";
import { waitForInstance } from "./wait";

type Catalog = Outputs["instances"]["catalog"];

export async function launch(cli: CliContext, flags: LaunchFlags) {
  // The command line is checked before anything is read or sent.
  const request = launchRequest(flags);
  if (flags.hfTokenStdin) request.hfToken = await readSecretFromStdin("Hugging Face token");
  const client = cli.signedIn();
  const catalog = await client.instances.catalog.query();
  const runtime = runtimeOf(catalog, request);

  // One check for the model and the placement, against the live offers; without --gpu it picks the GPU.
  const { assessment, placement } = await check(client, request);
  if (placement.picked) request.gpuPreferences = [placement.picked.gpuType];
  const tier = request.tier ?? "secure";

  if (flags.validateOnly) {
    const gpus = request.gpuPreferences.length ? gpuLabel({ gpuType: null, ...launchGpus(request) }) : `${request.gpuCount ?? 1}×(no GPU free)`;
    const ok = (assessment?.ok ?? true) && placement.placeable;
    // The assessment's fields as before, `ok` now meaning "can launch", and the placement beside them.
    const document = { ...(assessment ?? { problems: [] }), ok, gpuPreferences: request.gpuPreferences, placement };
    cli.out.result(document, () =>
      assessment && runtime
        ? renderAssessment(assessment, { runtime: runtime.name, gpus, tier }, placement)
        : renderPodCheck(request.templateId!, gpus, placement, tier),
    );
    if (assessment && !assessment.ok && runtime) throw invalidModel(assessment, runtime.name, request);
    if (!placement.placeable) throw notPlaceable(placement, tier);
    return;
  }

  // Checked before the launch (which checks again) so that each problem prints with its own remediation.
  if (assessment && !assessment.ok && runtime) throw invalidModel(assessment, runtime.name, request);
  if (!placement.placeable) throw notPlaceable(placement, tier);
  if (placement.picked) cli.out.note(`GPU: ${pickedLabel(placement.picked)}`);
  const launched = await client.instances.launch.mutate(request).catch((error) => {
    throw withTopUpHint(error, cli.url);
  });
  if (!flags.wait) {
    cli.out.result(
      launched,
      (instance) => `Launched ${instance.id}${instance.servingName ? ` (serving name ${instance.servingName})` : ""}: ${instance.state}.`,
    );
    cli.out.note(`Follow it with \`qdz instances show ${launched.id}\`, or launch with --wait to wait until it runs.`);
    return;
  }
  cli.out.note(`Launched ${launched.id}; waiting until it runs (Ctrl-C stops waiting, not the instance).`);
  const running = await waitForInstance(cli, client, launched.id, "running", flags.timeout);
  cli.out.result(running, (detail) => renderRunning(detail, cli.url));
}

/** The runtime the launch would serve its model with: the one asked for, or the template's. Checks the ids against the catalog. */
function runtimeOf(catalog: Catalog, request: LaunchRequest): Catalog["runtimes"][number] | null {
  const list = (ids: string[]) => ids.join(", ");
  for (const gpu of request.gpuPreferences) {
    if (!catalog.gpus.some((g) => g.id === gpu))
      throw new CliError(`There is no GPU type '${gpu}'. Pick from: ${list(catalog.gpus.map((g) => g.id))}.`, "BAD_REQUEST");
  }
  let runtimeId = request.runtimeId ?? null;
  if (request.templateId) {
    const template = catalog.templates.find((t) => t.id === request.templateId);
    if (!template) throw new CliError(`There is no template '${request.templateId}'. Pick from: ${list(catalog.templates.map((t) => t.id))}.`, "BAD_REQUEST");
    runtimeId = template.runtimeId;
  }
  if (runtimeId === null) return null;
  const runtime = catalog.runtimes.find((r) => r.id === runtimeId);
  if (!runtime) throw new CliError(`There is no runtime '${runtimeId}'. Pick from: ${list(catalog.runtimes.map((r) => r.id))}.`, "BAD_REQUEST");
  if (!request.hfRepo) throw new CliError(`'${request.templateId}' serves a model: add --model <hf repo>.`, "BAD_REQUEST");
  return runtime;
}

function check(client: Client, request: LaunchRequest): Promise<LaunchCheck> {
  return client.instances.check.query({
    runtimeId: request.runtimeId,
    templateId: request.templateId,
    hfRepo: request.hfRepo,
    modelFile: request.modelFile,
    task: request.task,
    contextLength: request.contextLength,
    hfToken: request.hfToken,
    gpuPreferences: request.gpuPreferences,
    gpuCount: request.gpuCount ?? 1,
    tier: request.tier,
    allowedRegions: request.allowedRegions,
    maxPriceCentsPerHour: request.maxPriceCentsPerHour,
    minVramGib: request.minVramGib,
  });
}

const launchGpus = (request: LaunchRequest) => ({ gpuCount: request.gpuCount ?? 1, gpuPreferences: request.gpuPreferences });

function invalidModel(assessment: Assessment, runtime: string, request: LaunchRequest): CliError {
  return new CliError(
    `${assessment.repo} cannot launch on ${runtime} with ${gpuLabel({ gpuType: null, ...launchGpus(request) })}:\n${renderProblems(assessment.problems)}`,
    "INVALID_MODEL",
  );
}

/** Nothing can host it now: the one reason, and the flags that would place it. */
function notPlaceable(placement: Placement, tier: string): CliError {
  return new CliError(`Cannot launch: ${placementLine(placement, tier)}`, "NOT_PLACEABLE");
}

/** `--validate-only` of a template that serves no model: only the placement to judge. */
function renderPodCheck(templateId: string, gpus: string, placement: Placement, tier: string): string {
  const verdict = placement.placeable ? "can launch" : "cannot launch (nothing can place it now)";
  return `Template '${templateId}' with ${gpus}: ${verdict}.\n${renderFields(placementFields(placement, tier))}`;
}

/** The server says how much to top up; the CLI adds how. */
export function withTopUpHint(error: unknown, url: string): unknown {
  const mapped = toCliError(error, url);
  if (mapped.code !== "PRECONDITION_FAILED" || !/top up/i.test(mapped.message)) return error;
  return new CliError(`${mapped.message} Run \`qdz topup <eur>\`.`, mapped.code);
}

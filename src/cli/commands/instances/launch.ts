import type { Client, Outputs } from "../../client";
import type { CliContext } from "../../context";
import { CliError, toCliError } from "../../errors";
import { readSecretFromStdin } from "../../input";
import { type LaunchFlags, type LaunchRequest, launchRequest } from "./launch-options";
import { type Assessment, gpuLabel, renderAssessment, renderProblems, renderRunning } from "./render";
import { waitForInstance } from "./wait";

type Catalog = Outputs["instances"]["catalog"];

export async function launch(cli: CliContext, flags: LaunchFlags) {
  // The command line is checked before anything is read or sent.
  const request = launchRequest(flags);
  if (flags.hfTokenStdin) request.hfToken = await readSecretFromStdin("Hugging Face token");
  const client = cli.signedIn();
  const catalog = await client.instances.catalog.query();
  const runtime = runtimeOf(catalog, request);

  if (flags.validateOnly) {
    if (!runtime) {
      cli.out.result({ ok: true, problems: [] }, () => `Template '${request.templateId}' runs no model: there is nothing to validate.`);
      return;
    }
    const assessment = await assess(client, runtime.id, request);
    cli.out.result(assessment, (result) => renderAssessment(result, { runtime: runtime.name, gpus: gpuLabel({ gpuType: null, ...launchGpus(request) }) }));
    if (!assessment.ok) throw invalidModel(assessment, runtime.name, request);
    return;
  }

  // Checked before the launch (which checks again) so that each problem prints with its own remediation.
  if (runtime) {
    const assessment = await assess(client, runtime.id, request);
    if (!assessment.ok) throw invalidModel(assessment, runtime.name, request);
  }
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

function assess(client: Client, runtimeId: string, request: LaunchRequest): Promise<Assessment> {
  return client.instances.validate.query({
    runtimeId,
    hfRepo: request.hfRepo!,
    modelFile: request.modelFile,
    task: request.task,
    contextLength: request.contextLength,
    gpuPreferences: request.gpuPreferences,
    gpuCount: request.gpuCount ?? 1,
    hfToken: request.hfToken,
  });
}

const launchGpus = (request: LaunchRequest) => ({ gpuCount: request.gpuCount ?? 1, gpuPreferences: request.gpuPreferences });

function invalidModel(assessment: Assessment, runtime: string, request: LaunchRequest): CliError {
  return new CliError(
    `${assessment.repo} cannot launch on ${runtime} with ${gpuLabel({ gpuType: null, ...launchGpus(request) })}:\n${renderProblems(assessment.problems)}`,
    "INVALID_MODEL",
  );
}

/** The server says how much to top up; the CLI adds how. */
export function withTopUpHint(error: unknown, url: string): unknown {
  const mapped = toCliError(error, url);
  if (mapped.code !== "PRECONDITION_FAILED" || !/top up/i.test(mapped.message)) return error;
  return new CliError(`${mapped.message} Run \`qdz topup <eur>\`.`, mapped.code);
}

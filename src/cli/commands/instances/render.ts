import type { Outputs } from "../../client";
import { formatEur } from "../../money";
import { formatTime, renderFields, renderTable } from "../../output";
import { progressLine } from "./progress";

export type ListItem = Outputs["instances"]["list"][number];
export type Detail = Outputs["instances"]["get"];
export type Assessment = Outputs["instances"]["validate"];
export type BulkResult = Outputs["instances"]["stopMany"];
export type Metered = Outputs["instances"]["metered"];
export type LaunchCheck = Outputs["instances"]["check"];
export type Placement = LaunchCheck["placement"];

/** `1×L4` once placed; before that the preferences, most preferred first: `1×L4/L40S`. */
export function gpuLabel(instance: Pick<ListItem, "gpuType" | "gpuCount" | "gpuPreferences">): string {
  return `${instance.gpuCount}×${instance.gpuType ?? instance.gpuPreferences.join("/")}`;
}

export const rateLabel = (cents: number | null) => (cents === null ? "-" : `${formatEur(cents)}/h`);

export function renderInstanceTable(rows: ListItem[]): string {
  return renderTable(
    ["id", "name", "state", "serving name", "gpu", "€/h", "created"],
    rows.map((row) => [
      row.id,
      row.name ?? "-",
      row.state,
      row.servingName ?? "-",
      gpuLabel(row),
      row.rateCentsPerHour === null ? "-" : formatEur(row.rateCentsPerHour),
      formatTime(row.createdAt),
    ]),
  );
}

/** The `/v1` base URL and the `model` to send, or null for a plain pod. */
export function endpointOf(detail: Pick<Detail, "servingName">, serverUrl: string): string | null {
  return detail.servingName ? `${serverUrl}/v1 (model "${detail.servingName}")` : null;
}

/** The current run: the newest (runs come newest first), while it has not ended. */
export function currentRun(detail: Pick<Detail, "runs">): Detail["runs"][number] | null {
  const run = detail.runs[0];
  return run && !run.endedAt ? run : null;
}

/** A running instance in a few lines: where to call it and what it costs. */
export function renderRunning(detail: Detail, serverUrl: string): string {
  const fields: [string, string][] = [["id", detail.id]];
  const endpoint = endpointOf(detail, serverUrl);
  if (endpoint) fields.push(["endpoint", endpoint]);
  fields.push(["placement", `${detail.providerId ?? "-"}, region ${detail.region ?? "-"}, ${gpuLabel(detail)}, ${rateLabel(detail.rateCentsPerHour)}`]);
  // A plain pod is reached on its ports, not on /v1.
  if (!endpoint) for (const port of currentRun(detail)?.ports ?? []) fields.push([`port ${port.name}`, `${port.port} → ${port.url}`]);
  return `Instance ${detail.id} is running.\n${renderFields(fields)}`;
}

/** `qdz instances show` for people: the facts, then the events timeline. */
export function renderDetail(detail: Detail, serverUrl: string): string {
  const fields: [string, string][] = [
    ["id", detail.id],
    ["name", detail.name ?? "-"],
    ...(detail.description ? ([["description", detail.description]] as [string, string][]) : []),
    ["state", `${detail.state} since ${formatTime(detail.stateChangedAt)}`],
  ];
  if (detail.state === "pending" && detail.progress)
    fields.push(["progress", progressLine(detail.state, detail.progress, secondsSince(detail.stateChangedAt))]);
  fields.push(["serving name", detail.servingName ?? "-"]);
  const endpoint = endpointOf(detail, serverUrl);
  if (endpoint) fields.push(["endpoint", endpoint]);
  fields.push(["model", modelLabel(detail)]);
  fields.push(["placement", placementLabel(detail)]);
  const why = chosenBecause(detail.placement);
  if (why) fields.push(["placed because", why]);
  const run = currentRun(detail);
  if (run) {
    fields.push(["runtime URL", `${run.runtimeUrl ?? "-"} (run ${run.number}${run.podId ? `, pod ${run.podId}` : ""})`]);
    for (const port of run.ports ?? []) fields.push([`port ${port.name}`, `${port.port} → ${port.url}`]);
  }
  if (detail.failureReason) fields.push(["failure", detail.failureReason]);
  if (detail.failureRemediation) fields.push(["remediation", detail.failureRemediation]);
  fields.push(["created", formatTime(detail.createdAt)]);

  const events = renderTable(
    ["time", "from", "to", "cause"],
    detail.events.map((event) => [formatSecond(event.at), event.from ?? "-", event.to, event.cause]),
  );
  return `${renderFields(fields)}\n\nEvents:\n${events}`;
}

/** `show --metered` is JSON by nature (the numbers are there to be checked), with or without `--json`. */
export function renderMetered(metered: Metered): string {
  return JSON.stringify(metered, null, 2);
}

function modelLabel(detail: Detail): string {
  const runtime = detail.runtimeId ?? `template ${detail.templateId}`;
  if (!detail.hfRepo) return `- (${runtime})`;
  const facts = [detail.task, detail.contextLength ? `context ${detail.contextLength}` : null, detail.modelFile].filter(Boolean);
  return `${detail.hfRepo} on ${runtime}${facts.length ? ` (${facts.join(", ")})` : ""}`;
}

function placementLabel(detail: Detail): string {
  const constraints = `${detail.tier}, ${detail.placementMode}`;
  if (!detail.providerId) return `not placed yet: ${gpuLabel(detail)} (${constraints})`;
  return `${detail.providerId}, region ${detail.region ?? "-"}, ${gpuLabel(detail)}, ${rateLabel(detail.rateCentsPerHour)} (${constraints})`;
}

/** The scheduler's explanation of the offer it chose, from the stored decision. */
function chosenBecause(placement: Detail["placement"]): string | null {
  if (!placement?.chosenOfferId) return null;
  const considered = placement.considered as { ranked?: { offer?: { id?: string }; reason?: string }[] } | null;
  return considered?.ranked?.find((entry) => entry.offer?.id === placement.chosenOfferId)?.reason ?? null;
}

/** Timeline times to the second: a boot takes seconds, and minutes would put every event at once. */
export function formatSecond(value: Date): string {
  return `${value.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

const secondsSince = (value: Date) => Math.max(0, (Date.now() - value.getTime()) / 1000);

/** "L4 (picked: cheapest free GPU with ≥ 2 GiB)": the GPU a launch without --gpu gets, and why. */
export function pickedLabel(picked: NonNullable<Placement["picked"]>): string {
  return `${picked.gpuType} (picked: ${picked.why})`;
}

/** Where it would be placed now and at what price, or the one reason it cannot be, with the flags that would place it. */
export function placementLine(placement: Placement, tier: string): string {
  const best = placement.best;
  if (best) {
    return `${best.gpuCount}×${best.gpuType} on ${best.providerId} in ${best.region} (${best.tier}) at ${formatEur(best.priceCentsPerHour)}/h, ${best.freeGpus} free now`;
  }
  const alternative = placement.alternatives[0];
  if (!alternative) return placement.message ?? "";
  // Alternatives keep the GPU count: only the type, and the tier where it changes.
  const flags = `--gpu ${alternative.gpuType}${alternative.tier === tier ? "" : ` --tier ${alternative.tier}`}`;
  return `${placement.message} Use it: ${flags}.`;
}

/** A check's placement as `--validate-only` fields: the picked GPU (if any) and the placement. */
export function placementFields(placement: Placement, tier: string): [string, string][] {
  const fields: [string, string][] = [];
  if (placement.picked) fields.push(["GPU", pickedLabel(placement.picked)]);
  fields.push(["placement", placementLine(placement, tier)]);
  return fields;
}

/**
 * `--validate-only` for people: the verdict, where it would be placed (or the one reason it cannot be),
 * what was learned about the model, and each problem with its remediation.
 */
export function renderAssessment(assessment: Assessment, request: { runtime: string; gpus: string; tier?: string }, placement?: Placement): string {
  const unplaceable = placement !== undefined && !placement.placeable;
  const blockers = [assessment.problems.length ? plural(assessment.problems.length, "problem") : null, unplaceable ? "nothing can place it now" : null].filter(
    Boolean,
  );
  const verdict = blockers.length === 0 ? "can launch" : `cannot launch (${blockers.join("; ")})`;
  const lines = [`${assessment.repo} on ${request.runtime} with ${request.gpus}: ${verdict}.`];
  const fields: [string, string][] = placement ? placementFields(placement, request.tier ?? "secure") : [];
  const model = [
    assessment.architecture,
    assessment.parameterCount ? `${formatParameters(assessment.parameterCount)} parameters` : null,
    assessment.dtype,
    assessment.format,
    assessment.file,
  ].filter(Boolean);
  if (model.length) fields.push(["model", `${model.join(", ")}${assessment.source === "snapshot" ? " (from the bundled metadata snapshot)" : ""}`]);
  if (assessment.task) fields.push(["task", assessment.task]);
  if (assessment.contextLength) fields.push(["context", `${assessment.contextLength.toLocaleString("en-US")} tokens`]);
  if (assessment.vram) {
    fields.push(["VRAM", `${formatGiB(assessment.vram.totalGiB)} needed, ${assessment.usableGiB.toFixed(1)} GiB usable of ${assessment.availableGiB} GiB`]);
  }
  if (assessment.fitsOn.length) fields.push(["fits on", assessment.fitsOn.map((gpus) => `${gpus.count}×${gpus.name}`).join(", ")]);
  if (fields.length) lines.push(renderFields(fields));
  if (assessment.problems.length) lines.push(renderProblems(assessment.problems));
  return lines.join("\n");
}

/** Each problem on its own line, its remediation under it. */
export function renderProblems(problems: Assessment["problems"]): string {
  return problems.map((problem) => `- ${problem.message}\n  remediation: ${problem.remediation}`).join("\n");
}

/** What a bulk stop or delete did, and what it left alone and why. */
export function renderBulk(result: BulkResult, words: { changed: string; none: string }): string {
  const lines = [result.changed.length ? `${words.changed}: ${result.changed.join(", ")}.` : `${words.none}.`];
  for (const skipped of result.skipped) lines.push(`Skipped ${skipped.id}: ${skipped.reason}.`);
  return lines.join("\n");
}

/** Why a wait ended badly, with what to do about it. */
export function failureMessage(detail: Pick<Detail, "id" | "state" | "failureReason" | "failureRemediation">): string {
  const state = detail.state.replace("_", "-");
  const reason =
    detail.failureReason ?? (detail.state === "stopped" || detail.state === "stopping" ? "It was stopped while waiting." : "No reason was recorded.");
  const remediation = detail.failureRemediation ? `\nremediation: ${detail.failureRemediation}` : "";
  return `Instance ${detail.id} is ${state}: ${reason}${remediation}`;
}

/** `8_190_000_000` → `8.2 B`, `494_000_000` → `494 M`. */
export function formatParameters(count: number): string {
  if (count >= 1e9) return `${(count / 1e9).toFixed(1)} B`;
  return `${Math.round(count / 1e6)} M`;
}

/** "~23 GiB" from 10 GiB up (rounded up), "~1.9 GiB" below, as the validator words sizes. */
export function formatGiB(gib: number): string {
  return gib >= 10 ? `~${Math.ceil(gib)} GiB` : `~${(Math.ceil(gib * 10) / 10).toFixed(1)} GiB`;
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;

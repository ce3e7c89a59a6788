import { and, asc, desc, eq, isNull } from "drizzle-orm";
import { instanceEvents, instanceRuns, instances, placementDecisions } from "../../db/schema";
import type { AccountContext } from "../context";
import type { Provider } from "../providers/provider";
import { displayName, getInstance } from "./queries";
import type { Instance } from "./transition";

/** A row of the Instances list. */
export function listItem(instance: Instance) {
  return {
    id: instance.id,
    name: instance.name,
    displayName: displayName(instance),
    state: instance.state,
    servingName: instance.servingName,
    hfRepo: instance.hfRepo,
    runtimeId: instance.runtimeConfig.runtimeId,
    templateId: instance.runtimeConfig.templateId,
    gpuType: instance.gpuType,
    gpuCount: instance.gpuCount,
    gpuPreferences: instance.gpuPreferences,
    tier: instance.tier,
    region: instance.region,
    providerId: instance.providerId,
    rateCentsPerHour: instance.rateCentsPerHour,
    progress: instance.progress,
    failureReason: instance.failureReason,
    createdAt: instance.createdAt,
    stateChangedAt: instance.stateChangedAt,
  };
}

export async function listInstances(ctx: AccountContext) {
  const rows = await ctx.db
    .select()
    .from(instances)
    .where(and(eq(instances.accountId, ctx.accountId), isNull(instances.deletedAt)))
    .orderBy(desc(instances.createdAt));
  return rows.map(listItem);
}

/** The Details and Settings tabs: the instance, its timeline, its latest placement and its runs. */
export async function instanceDetail(ctx: AccountContext, instanceId: string) {
  const instance = await getInstance(ctx, instanceId);
  const [events, [placement], runs] = await Promise.all([
    ctx.db.select().from(instanceEvents).where(eq(instanceEvents.instanceId, instance.id)).orderBy(asc(instanceEvents.at), asc(instanceEvents.id)),
    ctx.db.select().from(placementDecisions).where(eq(placementDecisions.instanceId, instance.id)).orderBy(desc(placementDecisions.decidedAt)).limit(1),
    ctx.db.select().from(instanceRuns).where(eq(instanceRuns.instanceId, instance.id)).orderBy(desc(instanceRuns.number)),
  ]);
  return {
    ...listItem(instance),
    description: instance.description,
    task: instance.task,
    modelFile: instance.modelFile,
    contextLength: instance.contextLength,
    allowedRegions: instance.allowedRegions,
    maxPriceCentsPerHour: instance.maxPriceCentsPerHour,
    placementMode: instance.placementMode,
    minVramGib: instance.minVramGib,
    pricingSnapshot: instance.pricingSnapshot,
    runtimeConfig: instance.runtimeConfig,
    modelAssessment: instance.modelAssessment,
    failureRemediation: instance.failureRemediation,
    events: events.map((e) => ({ id: e.id, at: e.at, from: e.fromState, to: e.toState, cause: e.cause, detail: e.detail })),
    placement: placement ?? null,
    runs: runs.map((r) => ({
      id: r.id,
      number: r.number,
      providerId: r.providerId,
      podId: r.podId,
      region: r.region,
      gpuType: r.gpuType,
      rateCentsPerHour: r.rateCentsPerHour,
      runtimeUrl: r.runtimeUrl,
      ports: r.ports,
      createdAt: r.createdAt,
      runningAt: r.runningAt,
      lastHeartbeatAt: r.lastHeartbeatAt,
      endedAt: r.endedAt,
      endReason: r.endReason,
      endedBecause: r.endedBecause,
    })),
  };
}

/** The last lines of a run's runtime or agent log, from its provider (the current run unless one is named). */
export async function instanceLogs(
  ctx: AccountContext,
  providers: Provider[],
  instanceId: string,
  options: { stream: "runtime" | "agent"; tailLines: number; runId?: string },
) {
  const instance = await getInstance(ctx, instanceId);
  const runId = options.runId ?? instance.currentRunId;
  const [run] = runId
    ? await ctx.db
        .select()
        .from(instanceRuns)
        .where(and(eq(instanceRuns.id, runId), eq(instanceRuns.instanceId, instance.id)))
    : [];
  if (!run?.podId || !run.providerId) return { runId: run?.id ?? null, text: "", available: false };
  const provider = providers.find((p) => p.id === run.providerId);
  if (!provider?.logs) return { runId: run.id, text: "", available: false };
  return { runId: run.id, text: await provider.logs(run.podId, options.stream, options.tailLines), available: true };
}

import { and, asc, desc, eq, isNull } from "drizzle-orm";
import { instanceEvents, instanceRuns, instances, type PricingSnapshot, placementDecisions } from "../../db/schema";
import type { AccountContext } from "../context";
import { findProvider } from "../providers/registry";
import type { Provider } from "../providers/seam";
import type { Offer } from "../scheduler/offers";
import { displayName, getInstance } from "./queries";
import { podRefOf } from "./runs";
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
    pricingSnapshot: customerPricing(instance.pricingSnapshot),
    runtimeConfig: instance.runtimeConfig,
    modelAssessment: instance.modelAssessment,
    failureRemediation: instance.failureRemediation,
    events: events.map((e) => ({ id: e.id, at: e.at, from: e.fromState, to: e.toState, cause: e.cause, detail: e.detail })),
    placement: placement ? { ...placement, considered: customerPlacement(placement.considered) } : null,
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

/*
 * What the platform pays its providers (providerCostCentsPerGpuHour) is kept in the
 * snapshot and the placement decision for the operator; customers read their own
 * price only. The fields they see are listed, so a field added later stays private.
 */

/** The pricing snapshot without provider cost: the customer's rate per GPU type. */
export function customerPricing(snapshot: PricingSnapshot) {
  return {
    lockedAt: snapshot.lockedAt,
    modelClass: snapshot.modelClass,
    tier: snapshot.tier,
    gpuCount: snapshot.gpuCount,
    rows: snapshot.rows.map((row) => ({ gpuType: row.gpuType, rateCentsPerGpuHour: row.rateCentsPerGpuHour, catalogUpdatedAt: row.catalogUpdatedAt })),
  };
}

/** A placement decision's `considered` (provisioning.ts's `recordDecision`) with each offer's provider cost left out. */
export function customerPlacement(considered: unknown): unknown {
  if (typeof considered !== "object" || considered === null) return considered;
  const { ranked, rejected, ...rest } = considered as { ranked?: { offer?: Offer }[]; rejected?: { offer?: Offer }[] };
  const withoutCost = <T extends { offer?: Offer }>(entries: T[] | undefined) =>
    entries?.map((entry) => (entry.offer ? { ...entry, offer: customerOffer(entry.offer) } : entry));
  return { ...rest, ranked: withoutCost(ranked), rejected: withoutCost(rejected) };
}

function customerOffer(offer: Offer): Omit<Offer, "providerCostCentsPerGpuHour"> {
  const { id, providerId, gpuType, gpuCount, vramGib, region, tier, availableGpus, latencyMs } = offer;
  return { id, providerId, gpuType, gpuCount, vramGib, region, tier, availableGpus, latencyMs };
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
  const provider = findProvider(providers, run.providerId);
  if (!provider?.logs) return { runId: run.id, text: "", available: false };
  return { runId: run.id, text: await provider.logs(podRefOf(run)!, options.stream, options.tailLines), available: true };
}

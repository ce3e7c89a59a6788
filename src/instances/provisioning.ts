import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { instanceRuns, instances, placementDecisions, sshKeys } from "../../db/schema";
import { newSecret, sha256Hex } from "../auth/secrets";
import { newId } from "../ids";
import type { PodSpec, Provider } from "../providers/provider";
import type { Offer } from "../scheduler/offers";
import { explain, rankOffers, type Ranking } from "../scheduler/placement";
import { transition, type Instance } from "./transition";

export interface ProvisioningDeps {
  db: Database;
  providers: Provider[];
  /** The api's base URL as pods reach it, for the sidecar agent's reports. */
  controlUrl: string;
  hubEndpoint: string;
  /** Failover bound: how many offers are tried before the launch fails. */
  maxAttempts: number;
}

interface Attempt {
  offerId: string;
  outcome: "provisioned" | "failed";
  error?: string;
}

/**
 * The provisioning job: ranks every provider's offers against the
 * instance's constraints, stores the decision, and provisions the best
 * offer, failing over to the next ones up to a bound. Idempotent: a run that
 * already has a pod, or is no longer the instance's current pending run, is left alone.
 */
export async function provisionRun(deps: ProvisioningDeps, instanceId: string, runId: string): Promise<"provisioned" | "skipped" | "failed"> {
  const { db } = deps;
  const [instance] = await db.select().from(instances).where(eq(instances.id, instanceId));
  const [run] = await db.select().from(instanceRuns).where(eq(instanceRuns.id, runId));
  if (!instance || !run || instance.state !== "pending" || instance.currentRunId !== runId || run.podId || run.endedAt) return "skipped";
  // One provisioner per run: a claim older than the job's expiry belongs to a worker that died.
  const [claimed] = await db
    .update(instanceRuns)
    .set({ claimedAt: sql`now()` })
    .where(and(eq(instanceRuns.id, runId), isNull(instanceRuns.podId), or(isNull(instanceRuns.claimedAt), lt(instanceRuns.claimedAt, sql`now() - interval '5 minutes'`))))
    .returning({ id: instanceRuns.id });
  if (!claimed) return "skipped";

  const offers = (await Promise.all(deps.providers.map((p) => p.offers().catch(() => [] as Offer[])))).flat();
  const ranking = rankOffers(offers, {
    gpuPreferences: instance.gpuPreferences,
    gpuCount: instance.gpuCount,
    minVramGib: instance.minVramGib,
    allowedRegions: instance.allowedRegions,
    tier: instance.tier,
    maxPriceCentsPerHour: instance.maxPriceCentsPerHour,
    pricing: instance.pricingSnapshot,
    // Pinned mode keeps the provider of the first placement.
    pinnedProviderId: instance.placementMode === "pinned" ? instance.providerId : null,
  });

  const attempts: Attempt[] = [];
  const spec = await podSpec(deps, instance, runId);
  for (const choice of ranking.ranked.slice(0, deps.maxAttempts)) {
    const provider = deps.providers.find((p) => p.id === choice.offer.providerId)!;
    const token = newSecret("qdza_");
    try {
      await db.update(instanceRuns).set({ agentTokenHash: sha256Hex(token) }).where(eq(instanceRuns.id, runId));
      const pod = await provider.provision({ ...spec, agent: { ...spec.agent, token }, gpuType: choice.offer.gpuType }, choice.offer);
      attempts.push({ offerId: choice.offer.id, outcome: "provisioned" });
      await db.transaction(async (tx) => {
        await tx
          .update(instanceRuns)
          .set({
            providerId: pod.providerId,
            podId: pod.podId,
            region: pod.region,
            gpuType: choice.offer.gpuType,
            rateCentsPerHour: choice.priceCentsPerHour,
            runtimeUrl: pod.runtimeUrl,
            ports: pod.ports,
          })
          .where(eq(instanceRuns.id, runId));
        await tx
          .update(instances)
          .set({
            providerId: pod.providerId,
            region: pod.region,
            gpuType: choice.offer.gpuType,
            rateCentsPerHour: choice.priceCentsPerHour,
            progress: { phase: "allocating", progress: null, message: `Pod allocated on ${pod.providerId} (${pod.region}); starting`, at: new Date().toISOString() },
          })
          .where(eq(instances.id, instanceId));
        await recordDecision(tx, instance, runId, ranking, attempts, choice.offer.id);
      });
      return "provisioned";
    } catch (error) {
      attempts.push({ offerId: choice.offer.id, outcome: "failed", error: error instanceof Error ? error.message : String(error) });
    }
  }

  await db.transaction(async (tx) => {
    await recordDecision(tx, instance, runId, ranking, attempts, null);
    await tx.update(instanceRuns).set({ endedAt: new Date(), endReason: "placement failed" }).where(and(eq(instanceRuns.id, runId), isNull(instanceRuns.endedAt)));
    const { reason, remediation } = placementFailure(ranking, attempts);
    await transition(tx, instanceId, {
      to: "failed",
      cause: `placement failed: ${reason}`,
      detail: { reason, remediation },
      patch: { failureReason: reason, failureRemediation: remediation, progress: null },
    });
  });
  return "failed";
}

async function podSpec(deps: ProvisioningDeps, instance: Instance, runId: string): Promise<Omit<PodSpec, "agent"> & { agent: { controlUrl: string; token: string } }> {
  const keys = await deps.db.select({ publicKey: sshKeys.publicKey }).from(sshKeys).where(eq(sshKeys.accountId, instance.accountId));
  const config = instance.runtimeConfig;
  return {
    podId: newId("pod"),
    instanceId: instance.id,
    runId,
    image: config.image,
    runtime:
      config.runtimeId && instance.servingName && instance.hfRepo && instance.task
        ? {
            id: config.runtimeId,
            localBinary: config.localBinary ?? "",
            command: config.command,
            healthPath: config.healthPath ?? "/health",
            servedModelName: instance.servingName,
            model: instance.hfRepo,
            modelFile: instance.modelFile,
            task: instance.task,
            contextLength: config.contextLength ?? 4096,
          }
        : null,
    ports: config.ports,
    gpuType: instance.gpuPreferences[0]!,
    gpuCount: instance.gpuCount,
    sshAuthorizedKeys: keys.map((k) => k.publicKey),
    agent: { controlUrl: deps.controlUrl, token: "" },
    hubEndpoint: deps.hubEndpoint,
  };
}

async function recordDecision(tx: Parameters<Parameters<Database["transaction"]>[0]>[0], instance: Instance, runId: string, ranking: Ranking, attempts: Attempt[], chosen: string | null) {
  await tx.insert(placementDecisions).values({
    instanceId: instance.id,
    runId,
    mode: instance.placementMode,
    considered: {
      weights: ranking.weights,
      ranked: ranking.ranked.map((r) => ({ offer: r.offer, priceCentsPerHour: r.priceCentsPerHour, score: r.score, components: r.components, reason: explain(r, ranking.weights) })),
      rejected: ranking.rejected.map((r) => ({ offer: r.offer, reason: r.reason })),
    },
    attempts,
    chosenOfferId: chosen,
  });
}

/** Why nothing could be placed, and what the user can change. */
export function placementFailure(ranking: Ranking, attempts: Attempt[]): { reason: string; remediation: string } {
  if (attempts.length > 0) {
    return {
      reason: `every offer tried failed to provision (${attempts.map((a) => `${a.offerId}: ${a.error}`).join("; ")})`,
      remediation: "Start the instance again in a moment, or allow more GPU types or regions in Settings.",
    };
  }
  const reasons = [...new Set(ranking.rejected.map((r) => r.reason))].slice(0, 4);
  return {
    reason: ranking.rejected.length ? `no offer matches the constraints (${reasons.join("; ")})` : "no provider offers capacity right now",
    remediation: "Allow more GPU types or regions, pick the other capacity tier, or raise the maximum price in Settings, then Start again.",
  };
}

import { eq } from "drizzle-orm";
import type { Database, Executor } from "../../db/client";
import { instanceRuns, instances, placementDecisions, sshKeys } from "../../db/schema";
import { newSecret, sha256Hex } from "../auth/secrets";
import { newId } from "../ids";
import type { JobQueue } from "../jobs/queue";
import { currentOffers, offersCacheFor } from "../providers/offers";
import { providerById } from "../providers/registry";
import { type PodHandle, type Provider, ProvisionError } from "../providers/seam";
import { renderLaunch } from "../runtimes/launch";
import type { Offer } from "../scheduler/offers";
import { leadingReason } from "../scheduler/placeability";
import { explain, type PlacementConstraints, type Ranking, rankOffers } from "../scheduler/placement";
import { ProvisioningLease } from "./provisioning-lease";
import { isReplacement } from "./reclaim";
import { attachPod, endRun } from "./runs";
import { canTransition } from "./state-machine";
import type { Instance } from "./transition";

export interface ProvisioningDeps {
  db: Database;
  /** For the settlement a failed placement enqueues with the run's end. */
  jobs: JobQueue;
  providers: Provider[];
  /** The api's base URL as pods reach it, for the sidecar agent's reports. */
  controlUrl: string;
  hubEndpoint: string;
  /** Failover bound: how many offers are tried before the launch fails. */
  maxAttempts: number;
  /** How long a provisioner's claim holds unless renewed (PROVISION_LEASE_SECONDS). */
  leaseSeconds: number;
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
 *
 * At most one pod per run, whatever crashes: one provisioner at a time holds
 * the run's lease (renewed while it works); the pod it is about to create is
 * written down first, so one taking over a lapsed lease stops that pod before
 * making its own; and a pod is recorded only while the lease is still held —
 * otherwise its maker stops it.
 */
export async function provisionRun(deps: ProvisioningDeps, instanceId: string, runId: string): Promise<"provisioned" | "skipped" | "failed"> {
  const { db } = deps;
  const [instance] = await db.select().from(instances).where(eq(instances.id, instanceId));
  const [run] = await db.select().from(instanceRuns).where(eq(instanceRuns.id, runId));
  if (!instance || !run || instance.state !== "pending" || instance.currentRunId !== runId || run.podId || run.endedAt) return "skipped";
  const claim = await ProvisioningLease.claim(db, runId, deps.leaseSeconds);
  if (!claim) return "skipped";
  const { lease, leftoverPodId } = claim;
  try {
    if (leftoverPodId) {
      // A provisioner that lost its lease (a crash) may have made this pod. Which provider it asked is not
      // recorded, nor the provider's own id for it: stopping a pod a provider does not have is a no-op, and
      // a cloud pod made under this name is the reconciler's orphan (found by its name) if this misses it.
      await Promise.all(deps.providers.map((p) => p.stop({ podId: leftoverPodId, externalId: leftoverPodId })));
      if (!(await lease.update({ provisioningPodId: null }))) return "skipped";
    }
    return await placeAndProvision(deps, instance, runId, lease);
  } catch (error) {
    // Hand the run over at once (the job's retry, or the reconciler) rather than after the lease lapses.
    await lease.release().catch(() => {});
    throw error;
  } finally {
    lease.end();
  }
}

async function placeAndProvision(
  deps: ProvisioningDeps,
  instance: Instance,
  runId: string,
  lease: ProvisioningLease,
): Promise<"provisioned" | "skipped" | "failed"> {
  const offers = await currentOffers(deps.providers);
  const constraints: PlacementConstraints = {
    gpuPreferences: instance.gpuPreferences,
    gpuCount: instance.gpuCount,
    minVramGib: instance.minVramGib,
    allowedRegions: instance.allowedRegions,
    tier: instance.tier,
    maxPriceCentsPerHour: instance.maxPriceCentsPerHour,
    pricing: instance.pricingSnapshot,
    // Pinned mode keeps the provider of the first placement.
    pinnedProviderId: instance.placementMode === "pinned" ? instance.providerId : null,
  };
  // A degraded provider's offers are not among them: said in the decision, so the Details tab shows why.
  const unavailable = offersCacheFor(deps.providers)
    .health()
    .flatMap((h) => (h.state === "degraded" ? [{ providerId: h.providerId, reason: h.reason ?? "not answering" }] : []));
  const ranking: Considered = { ...rankOffers(offers, constraints), unavailable };

  const attempts: Attempt[] = [];
  const subject = await launchSubject(deps, instance, runId);
  for (const choice of ranking.ranked.slice(0, deps.maxAttempts)) {
    const provider = providerById(deps.providers, choice.offer.providerId);
    const podId = newId("pod");
    const token = newSecret("qdza_");
    // Written before the provider is asked: whoever takes the run over after a crash stops this pod.
    if (!(await lease.update({ provisioningPodId: podId, agentTokenHash: sha256Hex(token) }))) return "skipped";
    const launch = renderLaunch({ ...subject, podId, agent: { controlUrl: deps.controlUrl, token }, gpuType: choice.offer.gpuType });
    let pod: PodHandle;
    try {
      pod = await provider.provision(launch, choice.offer);
    } catch (error) {
      attempts.push({ offerId: choice.offer.id, outcome: "failed", error: error instanceof Error ? error.message : String(error) });
      // Whatever part of it the provider made (the reconciler finds what this misses by the pod's name).
      await provider.stop({ podId, externalId: podId }).catch(() => {});
      // A launch no provider can run (a bad image, a refused spec): another offer would fail the same way.
      if (error instanceof ProvisionError && !error.retryable) break;
      continue;
    }
    attempts.push({ offerId: choice.offer.id, outcome: "provisioned" });
    let recorded = false;
    try {
      recorded = await recordPod(deps.db, instance, runId, lease, pod, choice, ranking, attempts);
    } finally {
      // Not recorded (the lease was taken over, the instance stopped, or the write failed): nobody owns this pod.
      if (!recorded) await provider.stop({ podId: pod.podId, externalId: pod.externalId });
    }
    return recorded ? "provisioned" : "skipped";
  }

  const ended = await lease.serial(() =>
    deps.db.transaction(async (tx) => {
      // The instance first, then the run (the lease's lock), as every writer of runs takes them.
      await tx.select({ id: instances.id }).from(instances).where(eq(instances.id, instance.id)).for("update");
      if (!(await lease.lock(tx))) return false;
      await recordDecision(tx, instance, runId, ranking, attempts, null);
      const { reason, remediation } = placementFailure(offers, ranking, attempts, constraints);
      // A re-placement after a reclaim that finds no capacity stops: nothing failed, and a retry is the user's choice.
      const replacing = await isReplacement(tx, instance.id);
      await endRun(tx, deps.jobs, {
        runId,
        reason: "placement_failed",
        detail: `placement failed: ${reason}`,
        transition: replacing
          ? {
              to: "stopped",
              cause: `Stopped: no capacity to re-place it after the reclaim (${reason}). Start it again when you choose.`,
              patch: { progress: null },
            }
          : {
              to: "failed",
              cause: `placement failed: ${reason}`,
              detail: { reason, remediation },
              patch: { failureReason: reason, failureRemediation: remediation, progress: null },
            },
      });
      return true;
    }),
  );
  return ended ? "failed" : "skipped";
}

/**
 * The pod becomes the run's, only if this provisioner still holds the lease and the instance still wants a
 * pod for this run (a stop requested meanwhile found no pod to stop). The instance is locked before the run,
 * in the order the agent's transitions take them.
 */
async function recordPod(
  db: Database,
  instance: Instance,
  runId: string,
  lease: ProvisioningLease,
  pod: PodHandle,
  choice: Ranking["ranked"][number],
  ranking: Considered,
  attempts: Attempt[],
): Promise<boolean> {
  return lease.serial(() =>
    db.transaction(async (tx) => {
      const [current] = await tx.select().from(instances).where(eq(instances.id, instance.id)).for("update");
      // Still stoppable (pending, or already running on this pod's first report): a later stop will find the pod.
      if (!current || current.currentRunId !== runId || !canTransition(current.state, "stopping")) return false;
      if (!(await lease.lock(tx))) return false;
      await attachPod(tx, runId, {
        providerId: pod.providerId,
        podId: pod.podId,
        externalPodId: pod.externalId,
        region: pod.region,
        gpuType: choice.offer.gpuType,
        rateCentsPerHour: choice.priceCentsPerHour,
        // A cloud pod's address may come later: the reconciler records it, and the proxy routes once it has.
        runtimeUrl: pod.address?.runtimeUrl ?? null,
        ports: pod.address?.ports ?? [],
      });
      await tx
        .update(instances)
        .set({
          providerId: pod.providerId,
          region: pod.region,
          gpuType: choice.offer.gpuType,
          rateCentsPerHour: choice.priceCentsPerHour,
          progress: {
            phase: "allocating",
            progress: null,
            message: `Pod allocated on ${pod.providerId} (${pod.region}); starting`,
            at: new Date().toISOString(),
          },
        })
        .where(eq(instances.id, instance.id));
      await recordDecision(tx, instance, runId, ranking, attempts, choice.offer.id);
      return true;
    }),
  );
}

/** Everything of the launch but the pod's own id, token and GPU type, which each attempt sets. */
async function launchSubject(deps: ProvisioningDeps, instance: Instance, runId: string) {
  const keys = await deps.db.select({ publicKey: sshKeys.publicKey }).from(sshKeys).where(eq(sshKeys.accountId, instance.accountId));
  const serving =
    instance.runtimeConfig.runtimeId && instance.servingName && instance.hfRepo && instance.task
      ? { servedModelName: instance.servingName, model: instance.hfRepo, modelFile: instance.modelFile, task: instance.task }
      : null;
  return {
    instanceId: instance.id,
    runId,
    config: instance.runtimeConfig,
    serving,
    gpuCount: instance.gpuCount,
    sshAuthorizedKeys: keys.map((k) => k.publicKey),
    hubEndpoint: deps.hubEndpoint,
  };
}

/** A ranking as placement stores it: with the providers left out because they are not answering. */
type Considered = Ranking & { unavailable: { providerId: string; reason: string }[] };

async function recordDecision(tx: Executor, instance: Instance, runId: string, ranking: Considered, attempts: Attempt[], chosen: string | null) {
  await tx.insert(placementDecisions).values({
    instanceId: instance.id,
    runId,
    mode: instance.placementMode,
    considered: {
      weights: ranking.weights,
      ranked: ranking.ranked.map((r) => ({
        offer: r.offer,
        priceCentsPerHour: r.priceCentsPerHour,
        score: r.score,
        components: r.components,
        reason: explain(r, ranking.weights),
      })),
      rejected: ranking.rejected.map((r) => ({ offer: r.offer, reason: r.reason })),
      unavailable: ranking.unavailable,
    },
    attempts,
    chosenOfferId: chosen,
  });
}

/** Why nothing could be placed, led by the one reason that matters, and what the user can change. */
export function placementFailure(
  offers: readonly Offer[],
  ranking: Considered,
  attempts: Attempt[],
  constraints: PlacementConstraints,
): { reason: string; remediation: string } {
  if (attempts.length > 0) {
    // Every attempt's error is in the stored decision; the first says what happened.
    const more = attempts.length > 1 ? ` (and ${attempts.length - 1} more offer${attempts.length > 2 ? "s" : ""})` : "";
    return {
      reason: `every offer tried failed to provision: ${attempts[0]!.error}${more}`,
      remediation: "Start the instance again in a moment, or allow more GPU types or regions in Settings.",
    };
  }
  const { reason, field } = leadingReason(offers, ranking.rejected, constraints);
  return { reason, remediation: remediations[field] };
}

const remediations: Record<ReturnType<typeof leadingReason>["field"], string> = {
  gpuPreferences: "Allow another GPU type in Settings, or Start again when capacity frees up.",
  gpuCount: "Launch again with fewer GPUs per pod.",
  allowedRegions: "Allow more regions in Settings, then Start again.",
  tier: "Launch again in the other capacity tier.",
  minVramGib: "Lower the minimum VRAM or allow larger GPU types in Settings, then Start again.",
  maxPriceCentsPerHour: "Raise the maximum price in Settings, then Start again.",
  placementMode: "Switch to smart placement in Settings, then Start again.",
};
